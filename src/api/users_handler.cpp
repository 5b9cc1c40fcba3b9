#include "chatd/api/users_handler.hpp"

#include "chatd/api/json_io.hpp"
#include "chatd/domain/validation.hpp"

namespace chatd::api {

using http::error_response;

Task<http::Response> UsersHandler::create(http::Request request, http::PathParams) {
  auto body = parse_object(request);
  if (!body) co_return error_response(body.error());
  auto username = string_field(*body, "username");
  if (!username) co_return error_response(username.error());
  auto password = string_field(*body, "password");
  if (!password) co_return error_response(password.error());
  auto display_name = optional_string_field(*body, "display_name");
  if (!display_name) co_return error_response(display_name.error());

  auto user = co_await accounts_.register_user(*username, *password, *display_name);
  if (!user) co_return error_response(user.error());
  co_return json_response(201, {{"user", to_json(*user)}});
}

Task<http::Response> UsersHandler::me(http::Request request, http::PathParams) {
  auto caller = co_await accounts_.authenticate(request.bearer_token());
  if (!caller) co_return error_response(caller.error());
  co_return json_response(200, {{"user", to_json(*caller)}});
}

Task<http::Response> UsersHandler::by_id(http::Request request, http::PathParams params) {
  auto caller = co_await accounts_.authenticate(request.bearer_token());
  if (!caller) co_return error_response(caller.error());
  auto id = domain::parse_id(params[0], "user id");
  if (!id) co_return error_response(id.error());
  auto user = co_await accounts_.user(*id);
  if (!user) co_return error_response(user.error());
  co_return json_response(200, {{"user", to_json(*user)}});
}

Task<http::Response> UsersHandler::search(http::Request request, http::PathParams) {
  auto caller = co_await accounts_.authenticate(request.bearer_token());
  if (!caller) co_return error_response(caller.error());
  auto limit = domain::parse_limit(request.query_param("limit"));
  if (!limit) co_return error_response(limit.error());
  auto users = co_await accounts_.search(request.query_param("prefix").value_or(""), *limit);
  if (!users) co_return error_response(users.error());
  Json list = Json::array();
  for (const auto& u : *users) list.push_back(to_json(u));
  co_return json_response(200, {{"users", std::move(list)}});
}

}  // namespace chatd::api
