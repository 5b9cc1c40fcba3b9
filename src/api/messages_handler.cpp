#include "chatd/api/messages_handler.hpp"

#include "chatd/api/json_io.hpp"
#include "chatd/domain/validation.hpp"

namespace chatd::api {

using http::error_response;

namespace {
Response message_response(int status, const model::Message& m) {
  return raw_json_response(status, "{\"message\":" + message_json(m) + "}");
}

// {"<key>":[items...],"has_more":...} from items already rendered as JSON.
template <class T, class Render>
Response page_response(const char* key, const store::Page<T>& page, Render render) {
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

Task<Response> MessagesHandler::send(Call call) {
  auto id = call.id("id", "conversation id");
  if (!id) co_return error_response(id.error());
  auto body = parse_body(call.request, wire::parse_new_message);
  if (!body) co_return error_response(body.error());
  auto sent = co_await messages_.send(call.caller.id, *id, std::move(*body));
  if (!sent) co_return error_response(sent.error());
  co_return message_response(sent->created ? 201 : 200, sent->message);
}

Task<Response> MessagesHandler::history(Call call) {
  auto id = call.id("id", "conversation id");
  if (!id) co_return error_response(id.error());
  auto before = seq_param(call.request, "before");
  if (!before) co_return error_response(before.error());
  auto after = seq_param(call.request, "after");
  if (!after) co_return error_response(after.error());
  auto limit = domain::parse_limit(call.request.query_param("limit"));
  if (!limit) co_return error_response(limit.error());
  auto page = co_await messages_.history(call.caller.id, *id, *before, *after, *limit);
  if (!page) co_return error_response(page.error());
  co_return page_response("messages", *page,
                          [](const model::Message& m) { return message_json(m); });
}

Task<Response> MessagesHandler::edit(Call call) {
  auto id = call.id("id", "conversation id");
  if (!id) co_return error_response(id.error());
  auto seq = call.id("seq", "seq");
  if (!seq) co_return error_response(seq.error());
  auto body = parse_body(call.request, wire::parse_message_edit);
  if (!body) co_return error_response(body.error());
  std::string text = std::move(body->body);
  auto message = co_await messages_.edit(call.caller.id, *id, *seq, std::move(text));
  if (!message) co_return error_response(message.error());
  co_return message_response(200, *message);
}

Task<Response> MessagesHandler::remove(Call call) {
  auto id = call.id("id", "conversation id");
  if (!id) co_return error_response(id.error());
  auto seq = call.id("seq", "seq");
  if (!seq) co_return error_response(seq.error());
  auto message = co_await messages_.remove(call.caller.id, *id, *seq);
  if (!message) co_return error_response(message.error());
  co_return message_response(200, *message);
}

Task<Response> MessagesHandler::add_reaction(Call call) { return react(std::move(call), true); }

Task<Response> MessagesHandler::remove_reaction(Call call) { return react(std::move(call), false); }

Task<Response> MessagesHandler::react(Call call, bool add) {
  auto id = call.id("id", "conversation id");
  if (!id) co_return error_response(id.error());
  auto seq = call.id("seq", "seq");
  if (!seq) co_return error_response(seq.error());
  std::string emoji = call.path["emoji"];
  auto message = co_await messages_.react(call.caller.id, *id, *seq, std::move(emoji), add);
  if (!message) co_return error_response(message.error());
  co_return message_response(200, *message);
}

Task<Response> MessagesHandler::events(Call call) {
  auto id = call.id("id", "conversation id");
  if (!id) co_return error_response(id.error());
  auto after = seq_param(call.request, "after");
  if (!after) co_return error_response(after.error());
  auto limit = domain::parse_limit(call.request.query_param("limit"));
  if (!limit) co_return error_response(limit.error());
  auto page = co_await messages_.events(call.caller.id, *id, after->value_or(0), *limit);
  if (!page) co_return error_response(page.error());
  co_return page_response("events", *page, [](const model::Event& e) { return event_json(e); });
}

}  // namespace chatd::api
