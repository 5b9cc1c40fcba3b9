#include "chatd/api/sessions_handler.hpp"

#include "chatd/api/json_io.hpp"

namespace chatd::api {

using http::error_response;

Task<Response> SessionsHandler::create(Call call) {
  auto body = parse_body(call.request, wire::parse_login);
  if (!body) co_return error_response(body.error());
  wire::Login l = std::move(*body);
  auto login = co_await accounts_.login(l.username, l.password);
  if (!login) co_return error_response(login.error());
  co_return json_response(201, {{"token", login->token}, {"user", to_json(login->user)}});
}

Task<Response> SessionsHandler::remove_current(Call call) {
  auto done = co_await accounts_.logout(call.request.bearer_token());
  if (!done) co_return error_response(done.error());
  co_return no_content();
}

}  // namespace chatd::api
