#include "chatd/api/conversations_handler.hpp"

#include "chatd/api/json_io.hpp"
#include "chatd/domain/validation.hpp"

namespace chatd::api {

using http::error_response;

Task<http::Response> ConversationsHandler::create(http::Request request, http::PathParams) {
  auto caller = co_await accounts_.authenticate(request.bearer_token());
  if (!caller) co_return error_response(caller.error());
  auto body = parse_object(request);
  if (!body) co_return error_response(body.error());
  auto kind = string_field(*body, "kind");
  if (!kind) co_return error_response(kind.error());

  Expected<domain::CreatedConversation> result;
  if (*kind == "direct") {
    auto peer = int_field(*body, "peer_id");
    if (!peer) co_return error_response(peer.error());
    result = co_await conversations_.create_direct(caller->id, *peer);
  } else if (*kind == "group") {
    auto title = string_field(*body, "title");
    if (!title) co_return error_response(title.error());
    std::vector<model::UserId> ids;
    auto it = body->find("member_ids");
    if (it != body->end() && !it->is_null()) {
      if (!it->is_array()) co_return error_response(Error::invalid("member_ids must be an array"));
      for (const auto& v : *it) {
        if (!v.is_number_integer()) {
          co_return error_response(Error::invalid("member_ids must hold integer user ids"));
        }
        ids.push_back(v.get<std::int64_t>());
      }
    }
    std::string t = std::move(*title);
    result = co_await conversations_.create_group(caller->id, std::move(t), std::move(ids));
  } else {
    co_return error_response(Error::invalid("kind must be \"direct\" or \"group\""));
  }
  if (!result) co_return error_response(result.error());
  co_return json_response(result->created ? 201 : 200,
                          {{"conversation", to_json(result->view, true)}});
}

Task<http::Response> ConversationsHandler::list(http::Request request, http::PathParams) {
  auto caller = co_await accounts_.authenticate(request.bearer_token());
  if (!caller) co_return error_response(caller.error());
  auto limit = domain::parse_limit(request.query_param("limit"));
  if (!limit) co_return error_response(limit.error());
  auto page = co_await conversations_.list(caller->id, *limit, request.query_param("cursor"));
  if (!page) co_return error_response(page.error());
  Json items = Json::array();
  for (const auto& v : page->items) items.push_back(to_json(v, false));
  co_return json_response(200, {{"conversations", std::move(items)},
                                {"next_cursor", page->next_cursor ? Json(*page->next_cursor)
                                                                  : Json(nullptr)}});
}

Task<http::Response> ConversationsHandler::get(http::Request request, http::PathParams params) {
  auto caller = co_await accounts_.authenticate(request.bearer_token());
  if (!caller) co_return error_response(caller.error());
  auto id = domain::parse_id(params[0], "conversation id");
  if (!id) co_return error_response(id.error());
  auto view = co_await conversations_.get(caller->id, *id);
  if (!view) co_return error_response(view.error());
  co_return json_response(200, {{"conversation", to_json(*view, true)}});
}

Task<http::Response> ConversationsHandler::update(http::Request request, http::PathParams params) {
  auto caller = co_await accounts_.authenticate(request.bearer_token());
  if (!caller) co_return error_response(caller.error());
  auto id = domain::parse_id(params[0], "conversation id");
  if (!id) co_return error_response(id.error());
  auto body = parse_object(request);
  if (!body) co_return error_response(body.error());
  auto title = string_field(*body, "title");
  if (!title) co_return error_response(title.error());
  std::string t = std::move(*title);
  auto view = co_await conversations_.update_title(caller->id, *id, std::move(t));
  if (!view) co_return error_response(view.error());
  co_return json_response(200, {{"conversation", to_json(*view, true)}});
}

Task<http::Response> ConversationsHandler::add_member(http::Request request,
                                                      http::PathParams params) {
  auto caller = co_await accounts_.authenticate(request.bearer_token());
  if (!caller) co_return error_response(caller.error());
  auto id = domain::parse_id(params[0], "conversation id");
  if (!id) co_return error_response(id.error());
  auto body = parse_object(request);
  if (!body) co_return error_response(body.error());
  auto user = int_field(*body, "user_id");
  if (!user) co_return error_response(user.error());
  auto view = co_await conversations_.add_member(caller->id, *id, *user);
  if (!view) co_return error_response(view.error());
  co_return json_response(201, {{"conversation", to_json(*view, true)}});
}

Task<http::Response> ConversationsHandler::remove_member(http::Request request,
                                                         http::PathParams params) {
  auto caller = co_await accounts_.authenticate(request.bearer_token());
  if (!caller) co_return error_response(caller.error());
  auto id = domain::parse_id(params[0], "conversation id");
  if (!id) co_return error_response(id.error());
  auto user = domain::parse_id(params[1], "user id");
  if (!user) co_return error_response(user.error());
  auto done = co_await conversations_.remove_member(caller->id, *id, *user);
  if (!done) co_return error_response(done.error());
  co_return no_content();
}

Task<http::Response> ConversationsHandler::read(http::Request request, http::PathParams params) {
  auto caller = co_await accounts_.authenticate(request.bearer_token());
  if (!caller) co_return error_response(caller.error());
  auto id = domain::parse_id(params[0], "conversation id");
  if (!id) co_return error_response(id.error());
  auto body = parse_object(request);
  if (!body) co_return error_response(body.error());
  auto seq = int_field(*body, "seq");
  if (!seq) co_return error_response(seq.error());
  auto read_seq = co_await conversations_.mark_read(caller->id, *id, *seq);
  if (!read_seq) co_return error_response(read_seq.error());
  co_return json_response(200, {{"read_seq", *read_seq}});
}

}  // namespace chatd::api
