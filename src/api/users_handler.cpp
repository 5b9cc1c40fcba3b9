#include "chatd/api/users_handler.hpp"

#include "chatd/api/json_io.hpp"
#include "chatd/domain/validation.hpp"

namespace chatd::api {

using http::error_response;

Task<Response> UsersHandler::create(Call call) {
  auto body = parse_body(call.request, wire::parse_new_user);
  if (!body) co_return error_response(body.error());
  wire::NewUser u = std::move(*body);
  auto user = co_await accounts_.register_user(u.username, u.password, u.display_name);
  if (!user) co_return error_response(user.error());
  co_return json_response(201, {{"user", to_json(*user)}});
}

Task<Response> UsersHandler::me(Call call) {
  co_return json_response(200, {{"user", to_json(call.caller)}});
}

Task<Response> UsersHandler::by_id(Call call) {
  auto id = call.id("id", "user id");
  if (!id) co_return error_response(id.error());
  auto user = co_await accounts_.user(*id);
  if (!user) co_return error_response(user.error());
  co_return json_response(200, {{"user", to_json(*user)}});
}

Task<Response> UsersHandler::search(Call call) {
  auto limit = domain::parse_limit(call.request.query_param("limit"));
  if (!limit) co_return error_response(limit.error());
  auto users = co_await accounts_.search(call.request.query_param("prefix").value_or(""), *limit);
  if (!users) co_return error_response(users.error());
  Json list = Json::array();
  for (const auto& u : *users) list.push_back(to_json(u));
  co_return json_response(200, {{"users", std::move(list)}});
}

Task<Response> UsersHandler::settings(Call call) {
  auto settings = co_await accounts_.settings(call.caller.id);
  if (!settings) co_return error_response(settings.error());
  co_return json_response(200, {{"settings", to_json(*settings)}});
}

Task<Response> UsersHandler::update_settings(Call call) {
  auto body = parse_body(call.request, wire::parse_settings_change);
  if (!body) co_return error_response(body.error());
  auto settings = co_await accounts_.update_settings(call.caller.id, *body);
  if (!settings) co_return error_response(settings.error());
  co_return json_response(200, {{"settings", to_json(*settings)}});
}

}  // namespace chatd::api
