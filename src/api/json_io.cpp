#include "chatd/api/json_io.hpp"

#include "chatd/core/time.hpp"

namespace chatd::api {

Expected<Json> parse_object(const http::Request& request) {
  Json body = Json::parse(request.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded()) return Error::invalid("body must be valid JSON (UTF-8)");
  if (!body.is_object()) return Error::invalid("body must be a JSON object");
  return body;
}

Expected<std::string> string_field(const Json& body, const char* field) {
  auto it = body.find(field);
  if (it == body.end() || it->is_null()) return Error::invalid(std::string(field) + " is required");
  if (!it->is_string()) return Error::invalid(std::string(field) + " must be a string");
  return it->get<std::string>();
}

Expected<std::optional<std::string>> optional_string_field(const Json& body, const char* field) {
  auto it = body.find(field);
  if (it == body.end() || it->is_null()) return std::optional<std::string>();
  if (!it->is_string()) return Error::invalid(std::string(field) + " must be a string");
  return std::optional<std::string>(it->get<std::string>());
}

http::Response json_response(int status, const Json& body) {
  http::Response res;
  res.status = status;
  res.body = body.dump();
  return res;
}

http::Response no_content() {
  http::Response res;
  res.status = 204;
  res.content_type.clear();
  return res;
}

Json to_json(const model::User& user) {
  return {{"id", user.id},
          {"username", user.username},
          {"display_name", user.display_name},
          {"created_at", format_rfc3339_ms(user.created_at_ms)}};
}

}  // namespace chatd::api
