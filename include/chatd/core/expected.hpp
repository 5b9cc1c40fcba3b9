// A result that is either a value or a client-facing error. Domain and API code
// return these instead of throwing; one function in the http layer maps the
// error kind to a status (see http/errors.hpp).
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace chatd {

enum class ErrorKind {
  invalid_request,    // 400
  unauthenticated,    // 401
  forbidden,          // 403
  not_found,          // 404
  method_not_allowed, // 405
  conflict,           // 409
  payload_too_large,  // 413
  unsupported_media_type,  // 415
  range_not_satisfiable,   // 416
  rate_limited,       // 429
  unavailable,        // 503
  internal,           // 500
};

struct Error {
  Error() = default;
  Error(ErrorKind k, std::string c, std::string m, std::optional<std::int64_t> retry = std::nullopt)
      : kind(k), code(std::move(c)), message(std::move(m)), retry_after_ms(retry) {}

  ErrorKind kind = ErrorKind::internal;
  std::string code = "internal";  // snake_case contract code
  std::string message = "internal error";
  // How long to wait before trying again (rate_limited, unavailable): REST's
  // Retry-After (whole seconds, rounded up), the WebSocket's retry_after_ms.
  std::optional<std::int64_t> retry_after_ms;

  static Error invalid(std::string message) {
    return {ErrorKind::invalid_request, "invalid_request", std::move(message)};
  }
  static Error unauthenticated(std::string message = "missing or invalid token") {
    return {ErrorKind::unauthenticated, "unauthenticated", std::move(message)};
  }
  static Error forbidden(std::string code, std::string message) {
    return {ErrorKind::forbidden, std::move(code), std::move(message)};
  }
  static Error not_found(std::string message) {
    return {ErrorKind::not_found, "not_found", std::move(message)};
  }
  static Error conflict(std::string code, std::string message) {
    return {ErrorKind::conflict, std::move(code), std::move(message)};
  }
  static Error unavailable(std::string message) {
    return {ErrorKind::unavailable, "unavailable", std::move(message)};
  }
  static Error rate_limited(std::string message, std::chrono::milliseconds wait) {
    return {ErrorKind::rate_limited, "rate_limited", std::move(message), std::max<std::int64_t>(1, wait.count())};
  }
};

template <class T>
class Expected {
 public:
  Expected() : v_(Error{}) {}
  Expected(T value) : v_(std::move(value)) {}          // NOLINT(implicit)
  Expected(Error error) : v_(std::move(error)) {}      // NOLINT(implicit)

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() { return std::get<0>(v_); }
  const T& value() const { return std::get<0>(v_); }
  T& operator*() { return value(); }
  const T& operator*() const { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

struct Unit {};

}  // namespace chatd
