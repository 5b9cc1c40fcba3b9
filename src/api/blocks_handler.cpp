#include "chatd/api/blocks_handler.hpp"

#include "chatd/api/json_io.hpp"
#include "chatd/domain/validation.hpp"

namespace chatd::api {

using http::error_response;

Task<http::Response> BlocksHandler::block(http::Request request, http::PathParams params) {
  auto caller = co_await accounts_.authenticate(request.bearer_token());
  if (!caller) co_return error_response(caller.error());
  auto other = domain::parse_id(params[0], "user id");
  if (!other) co_return error_response(other.error());
  auto done = co_await conversations_.block(caller->id, *other);
  if (!done) co_return error_response(done.error());
  co_return no_content();
}

Task<http::Response> BlocksHandler::unblock(http::Request request, http::PathParams params) {
  auto caller = co_await accounts_.authenticate(request.bearer_token());
  if (!caller) co_return error_response(caller.error());
  auto other = domain::parse_id(params[0], "user id");
  if (!other) co_return error_response(other.error());
  auto done = co_await conversations_.unblock(caller->id, *other);
  if (!done) co_return error_response(done.error());
  co_return no_content();
}

Task<http::Response> BlocksHandler::list(http::Request request, http::PathParams) {
  auto caller = co_await accounts_.authenticate(request.bearer_token());
  if (!caller) co_return error_response(caller.error());
  auto blocks = co_await conversations_.blocks(caller->id);
  if (!blocks) co_return error_response(blocks.error());
  Json items = Json::array();
  for (const auto& b : *blocks) items.push_back({{"user", to_json(b.user)}, {"created_at", b.created_at}});
  co_return json_response(200, {{"blocks", std::move(items)}});
}

}  // namespace chatd::api
