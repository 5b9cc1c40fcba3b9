#include "chatd/api/conversations_handler.hpp"

#include "chatd/api/json_io.hpp"
#include "chatd/domain/validation.hpp"

namespace chatd::api {

using http::error_response;

Task<Response> ConversationsHandler::create(Call call) {
  auto body = parse_body(call.request, wire::parse_new_conversation);
  if (!body) co_return error_response(body.error());
  wire::NewConversation c = std::move(*body);
  Expected<domain::CreatedConversation> result;
  if (c.direct) {
    result = co_await conversations_.create_direct(call.caller.id, c.peer);
  } else {
    result = co_await conversations_.create_group(call.caller.id, std::move(c.title),
                                                  std::move(c.member_ids));
  }
  if (!result) co_return error_response(result.error());
  co_return json_response(result->created ? 201 : 200,
                          {{"conversation", to_json(result->view, true)}});
}

Task<Response> ConversationsHandler::list(Call call) {
  auto limit = domain::parse_limit(call.request.query_param("limit"));
  if (!limit) co_return error_response(limit.error());
  using Folder = domain::ConversationService::Folder;
  auto folder_text = call.request.query_param("folder").value_or("inbox");
  if (folder_text != "inbox" && folder_text != "requests") {
    co_return error_response(Error::invalid("folder must be \"inbox\" or \"requests\""));
  }
  auto folder = folder_text == "requests" ? Folder::requests : Folder::inbox;
  auto page = co_await conversations_.list(call.caller.id, folder, *limit,
                                           call.request.query_param("cursor"));
  if (!page) co_return error_response(page.error());
  Json items = Json::array();
  for (const auto& v : page->items) items.push_back(to_json(v, false));
  co_return json_response(200, {{"conversations", std::move(items)},
                                {"next_cursor", page->next_cursor ? Json(*page->next_cursor)
                                                                  : Json(nullptr)}});
}

Task<Response> ConversationsHandler::get(Call call) {
  auto id = call.id("id", "conversation id");
  if (!id) co_return error_response(id.error());
  auto view = co_await conversations_.get(call.caller.id, *id);
  if (!view) co_return error_response(view.error());
  co_return json_response(200, {{"conversation", to_json(*view, true)}});
}

Task<Response> ConversationsHandler::update(Call call) {
  auto id = call.id("id", "conversation id");
  if (!id) co_return error_response(id.error());
  auto body = parse_body(call.request, wire::parse_title_change);
  if (!body) co_return error_response(body.error());
  std::string title = std::move(body->title);
  auto view = co_await conversations_.update_title(call.caller.id, *id, std::move(title));
  if (!view) co_return error_response(view.error());
  co_return json_response(200, {{"conversation", to_json(*view, true)}});
}

Task<Response> ConversationsHandler::add_member(Call call) {
  auto id = call.id("id", "conversation id");
  if (!id) co_return error_response(id.error());
  auto body = parse_body(call.request, wire::parse_new_member);
  if (!body) co_return error_response(body.error());
  auto view = co_await conversations_.add_member(call.caller.id, *id, body->user_id);
  if (!view) co_return error_response(view.error());
  co_return json_response(201, {{"conversation", to_json(*view, true)}});
}

Task<Response> ConversationsHandler::remove_member(Call call) {
  auto id = call.id("id", "conversation id");
  if (!id) co_return error_response(id.error());
  auto user = call.id("user_id", "user id");
  if (!user) co_return error_response(user.error());
  auto done = co_await conversations_.remove_member(call.caller.id, *id, *user);
  if (!done) co_return error_response(done.error());
  co_return no_content();
}

Task<Response> ConversationsHandler::set_role(Call call) {
  auto id = call.id("id", "conversation id");
  if (!id) co_return error_response(id.error());
  auto user = call.id("user_id", "user id");
  if (!user) co_return error_response(user.error());
  auto body = parse_body(call.request, wire::parse_role_change);
  if (!body) co_return error_response(body.error());
  std::string role = std::move(body->role);
  auto view = co_await conversations_.set_role(call.caller.id, *id, *user, std::move(role));
  if (!view) co_return error_response(view.error());
  co_return json_response(200, {{"conversation", to_json(*view, true)}});
}

Task<Response> ConversationsHandler::mute(Call call) {
  auto id = call.id("id", "conversation id");
  if (!id) co_return error_response(id.error());
  std::optional<std::string> until;
  if (!call.request.body.empty()) {  // no body: muted until unmuted
    auto body = parse_body(call.request, wire::parse_mute);
    if (!body) co_return error_response(body.error());
    until = std::move(body->until);
  }
  auto view = co_await conversations_.mute(call.caller.id, *id, std::move(until));
  if (!view) co_return error_response(view.error());
  co_return json_response(200, {{"conversation", to_json(*view, true)}});
}

Task<Response> ConversationsHandler::unmute(Call call) {
  auto id = call.id("id", "conversation id");
  if (!id) co_return error_response(id.error());
  auto view = co_await conversations_.unmute(call.caller.id, *id);
  if (!view) co_return error_response(view.error());
  co_return json_response(200, {{"conversation", to_json(*view, true)}});
}

Task<Response> ConversationsHandler::accept(Call call) {
  auto id = call.id("id", "conversation id");
  if (!id) co_return error_response(id.error());
  auto view = co_await conversations_.accept(call.caller.id, *id);
  if (!view) co_return error_response(view.error());
  co_return json_response(200, {{"conversation", to_json(*view, true)}});
}

Task<Response> ConversationsHandler::decline(Call call) {
  auto id = call.id("id", "conversation id");
  if (!id) co_return error_response(id.error());
  auto done = co_await conversations_.decline(call.caller.id, *id);
  if (!done) co_return error_response(done.error());
  co_return no_content();
}

Task<Response> ConversationsHandler::read(Call call) {
  auto id = call.id("id", "conversation id");
  if (!id) co_return error_response(id.error());
  auto body = parse_body(call.request, wire::parse_read_mark);
  if (!body) co_return error_response(body.error());
  auto read_seq = co_await conversations_.mark_read(call.caller.id, *id, body->seq);
  if (!read_seq) co_return error_response(read_seq.error());
  co_return json_response(200, {{"read_seq", *read_seq}});
}

}  // namespace chatd::api
