#include "chatd/api/messages_handler.hpp"

#include "chatd/api/json_io.hpp"
#include "chatd/domain/validation.hpp"

namespace chatd::api {

using http::error_response;

namespace {
http::Response message_response(int status, const model::Message& m) {
  return raw_json_response(status, "{\"message\":" + message_json(m) + "}");
}

// {"<key>":[items...],"has_more":...} from items already rendered as JSON.
template <class T, class Render>
http::Response page_response(const char* key, const store::Page<T>& page, Render render) {
  std::string out = std::string("{\"") + key + "\":[";
  for (std::size_t i = 0; i < page.items.size(); ++i) {
    if (i) out += ',';
    out += render(page.items[i]);
  }
  out += "],\"has_more\":";
  out += page.has_more ? "true}" : "false}";
  return raw_json_response(200, std::move(out));
}
}  // namespace

Task<http::Response> MessagesHandler::send(http::Request request, http::PathParams params) {
  auto caller = co_await accounts_.authenticate(request.bearer_token());
  if (!caller) co_return error_response(caller.error());
  auto id = domain::parse_id(params[0], "conversation id");
  if (!id) co_return error_response(id.error());
  auto body = parse_object(request);
  if (!body) co_return error_response(body.error());
  auto client_msg_id = string_field(*body, "client_msg_id");
  if (!client_msg_id) co_return error_response(client_msg_id.error());
  auto text = string_field(*body, "body");
  if (!text) co_return error_response(text.error());
  auto reply_to = optional_int_field(*body, "reply_to");
  if (!reply_to) co_return error_response(reply_to.error());
  std::string cid = std::move(*client_msg_id), b = std::move(*text);
  auto sent = co_await messages_.send(caller->id, *id, std::move(cid), std::move(b), *reply_to);
  if (!sent) co_return error_response(sent.error());
  co_return message_response(sent->created ? 201 : 200, sent->message);
}

Task<http::Response> MessagesHandler::history(http::Request request, http::PathParams params) {
  auto caller = co_await accounts_.authenticate(request.bearer_token());
  if (!caller) co_return error_response(caller.error());
  auto id = domain::parse_id(params[0], "conversation id");
  if (!id) co_return error_response(id.error());
  auto before = seq_param(request, "before");
  if (!before) co_return error_response(before.error());
  auto after = seq_param(request, "after");
  if (!after) co_return error_response(after.error());
  auto limit = domain::parse_limit(request.query_param("limit"));
  if (!limit) co_return error_response(limit.error());
  auto page = co_await messages_.history(caller->id, *id, *before, *after, *limit);
  if (!page) co_return error_response(page.error());
  co_return page_response("messages", *page,
                          [](const model::Message& m) { return message_json(m); });
}

Task<http::Response> MessagesHandler::edit(http::Request request, http::PathParams params) {
  auto caller = co_await accounts_.authenticate(request.bearer_token());
  if (!caller) co_return error_response(caller.error());
  auto id = domain::parse_id(params[0], "conversation id");
  if (!id) co_return error_response(id.error());
  auto seq = domain::parse_id(params[1], "seq");
  if (!seq) co_return error_response(seq.error());
  auto body = parse_object(request);
  if (!body) co_return error_response(body.error());
  auto text = string_field(*body, "body");
  if (!text) co_return error_response(text.error());
  std::string b = std::move(*text);
  auto message = co_await messages_.edit(caller->id, *id, *seq, std::move(b));
  if (!message) co_return error_response(message.error());
  co_return message_response(200, *message);
}

Task<http::Response> MessagesHandler::remove(http::Request request, http::PathParams params) {
  auto caller = co_await accounts_.authenticate(request.bearer_token());
  if (!caller) co_return error_response(caller.error());
  auto id = domain::parse_id(params[0], "conversation id");
  if (!id) co_return error_response(id.error());
  auto seq = domain::parse_id(params[1], "seq");
  if (!seq) co_return error_response(seq.error());
  auto message = co_await messages_.remove(caller->id, *id, *seq);
  if (!message) co_return error_response(message.error());
  co_return message_response(200, *message);
}

Task<http::Response> MessagesHandler::add_reaction(http::Request request, http::PathParams params) {
  return react(std::move(request), std::move(params), true);
}

Task<http::Response> MessagesHandler::remove_reaction(http::Request request,
                                                      http::PathParams params) {
  return react(std::move(request), std::move(params), false);
}

Task<http::Response> MessagesHandler::react(http::Request request, http::PathParams params,
                                            bool add) {
  auto caller = co_await accounts_.authenticate(request.bearer_token());
  if (!caller) co_return error_response(caller.error());
  auto id = domain::parse_id(params[0], "conversation id");
  if (!id) co_return error_response(id.error());
  auto seq = domain::parse_id(params[1], "seq");
  if (!seq) co_return error_response(seq.error());
  std::string emoji = params[2];
  auto message = co_await messages_.react(caller->id, *id, *seq, std::move(emoji), add);
  if (!message) co_return error_response(message.error());
  co_return message_response(200, *message);
}

Task<http::Response> MessagesHandler::events(http::Request request, http::PathParams params) {
  auto caller = co_await accounts_.authenticate(request.bearer_token());
  if (!caller) co_return error_response(caller.error());
  auto id = domain::parse_id(params[0], "conversation id");
  if (!id) co_return error_response(id.error());
  auto after = seq_param(request, "after");
  if (!after) co_return error_response(after.error());
  auto limit = domain::parse_limit(request.query_param("limit"));
  if (!limit) co_return error_response(limit.error());
  auto page = co_await messages_.events(caller->id, *id, after->value_or(0), *limit);
  if (!page) co_return error_response(page.error());
  co_return page_response("events", *page,
                          [](const model::Event& e) { return event_json(e); });
}

}  // namespace chatd::api
