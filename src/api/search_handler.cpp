#include "chatd/api/search_handler.hpp"

#include "chatd/api/json_io.hpp"
#include "chatd/domain/validation.hpp"

namespace chatd::api {

using http::error_response;

Task<Response> SearchHandler::messages(Call call) {
  auto q = call.request.query_param("q");
  if (!q) co_return error_response(Error::invalid("q is required"));
  std::optional<model::ConversationId> conversation;
  if (auto raw = call.request.query_param("conversation_id")) {
    auto id = domain::parse_id(*raw, "conversation_id");
    if (!id) co_return error_response(id.error());
    conversation = *id;
  }
  auto limit = domain::parse_limit(call.request.query_param("limit"));
  if (!limit) co_return error_response(limit.error());
  auto page = co_await search_.messages(call.caller.id, std::move(*q), conversation, *limit,
                                        call.request.query_param("cursor"));
  if (!page) co_return error_response(page.error());
  // Each result is {"message": ...}, the message spliced as stored.
  std::string out = "{\"results\":[";
  for (std::size_t i = 0; i < page->results.size(); ++i) {
    if (i) out += ',';
    out += "{\"message\":" + message_json(page->results[i]) + "}";
  }
  out += "],\"next_cursor\":";
  out += page->next_cursor ? Json(*page->next_cursor).dump() : "null";
  out += '}';
  co_return raw_json_response(200, std::move(out));
}

}  // namespace chatd::api
