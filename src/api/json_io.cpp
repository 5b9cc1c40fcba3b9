#include "chatd/api/json_io.hpp"

namespace chatd::api {

Expected<std::optional<std::int64_t>> seq_param(const http::Request& request, const char* name) {
  auto raw = request.query_param(name);
  if (!raw) return std::optional<std::int64_t>();
  bool digits = !raw->empty() && raw->size() <= 18;
  for (char c : *raw) digits = digits && c >= '0' && c <= '9';
  if (!digits) return Error::invalid(std::string(name) + " must be a non-negative integer");
  return std::optional<std::int64_t>(std::stoll(*raw));
}

http::Response raw_json_response(int status, std::string body) {
  http::Response res;
  res.status = status;
  res.body = std::move(body);
  return res;
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

}  // namespace chatd::api
