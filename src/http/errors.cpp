#include "chatd/http/errors.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

namespace chatd::http {

int status_for(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::invalid_request: return 400;
    case ErrorKind::unauthenticated: return 401;
    case ErrorKind::forbidden: return 403;
    case ErrorKind::not_found: return 404;
    case ErrorKind::method_not_allowed: return 405;
    case ErrorKind::conflict: return 409;
    case ErrorKind::payload_too_large: return 413;
    case ErrorKind::unsupported_media_type: return 415;
    case ErrorKind::range_not_satisfiable: return 416;
    case ErrorKind::rate_limited: return 429;
    case ErrorKind::unavailable: return 503;
    case ErrorKind::internal: return 500;
  }
  return 500;
}

Response error_response(const Error& error) {
  Response res;
  res.status = status_for(error.kind);
  nlohmann::json body = {{"error", {{"code", error.code}, {"message", error.message}}}};
  // Messages may echo client input: never let bad UTF-8 break the error itself.
  res.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (error.kind == ErrorKind::unauthenticated) {
    res.headers.emplace_back("WWW-Authenticate", "Bearer");
  }
  if (error.kind == ErrorKind::unavailable || error.kind == ErrorKind::rate_limited) {
    std::int64_t seconds = error.retry_after_ms ? (*error.retry_after_ms + 999) / 1000 : 1;
    res.headers.emplace_back("Retry-After", std::to_string(std::max<std::int64_t>(1, seconds)));
  }
  return res;
}

}  // namespace chatd::http
