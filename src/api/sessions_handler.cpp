#include "chatd/api/sessions_handler.hpp"

#include "chatd/api/json_io.hpp"

namespace chatd::api {

using http::error_response;

Task<http::Response> SessionsHandler::create(http::Request request, http::PathParams) {
  auto body = parse_object(request);
  if (!body) co_return error_response(body.error());
  auto username = string_field(*body, "username");
  if (!username) co_return error_response(username.error());
  auto password = string_field(*body, "password");
  if (!password) co_return error_response(password.error());

  auto login = co_await accounts_.login(*username, *password);
  if (!login) co_return error_response(login.error());
  co_return json_response(201, {{"token", login->token}, {"user", to_json(login->user)}});
}

Task<http::Response> SessionsHandler::remove_current(http::Request request, http::PathParams) {
  auto done = co_await accounts_.logout(request.bearer_token());
  if (!done) co_return error_response(done.error());
  co_return no_content();
}

}  // namespace chatd::api
