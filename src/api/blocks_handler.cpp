#include "chatd/api/blocks_handler.hpp"

#include "chatd/api/json_io.hpp"

namespace chatd::api {

using http::error_response;

Task<Response> BlocksHandler::block(Call call) {
  auto other = call.id("user_id", "user id");
  if (!other) co_return error_response(other.error());
  auto done = co_await conversations_.block(call.caller.id, *other);
  if (!done) co_return error_response(done.error());
  co_return no_content();
}

Task<Response> BlocksHandler::unblock(Call call) {
  auto other = call.id("user_id", "user id");
  if (!other) co_return error_response(other.error());
  auto done = co_await conversations_.unblock(call.caller.id, *other);
  if (!done) co_return error_response(done.error());
  co_return no_content();
}

Task<Response> BlocksHandler::list(Call call) {
  auto blocks = co_await conversations_.blocks(call.caller.id);
  if (!blocks) co_return error_response(blocks.error());
  Json items = Json::array();
  for (const auto& b : *blocks) {
    items.push_back({{"user", to_json(b.user)}, {"created_at", b.created_at}});
  }
  co_return json_response(200, {{"blocks", std::move(items)}});
}

}  // namespace chatd::api
