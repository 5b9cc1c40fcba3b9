// The two failures every layer may see and none may absorb: the database is
// away, and a bounded queue is full. Both answer 503 `unavailable` with
// Retry-After; anything else unexpected is a 500 `internal` whose detail
// only the log gets. error_for_failure is the one place that maps them.
#pragma once

#include <exception>
#include <stdexcept>
#include <string>

#include "chatd/core/expected.hpp"

namespace chatd {

// The database cannot be reached or the connection broke mid-call; the
// connection is re-established on its next use.
struct Unavailable : std::runtime_error {
  explicit Unavailable(const std::string& what) : std::runtime_error(what) {}
};

// A pool's queue is full: the request is answered 503 instead of queueing
// without bound.
struct Overloaded : std::runtime_error {
  explicit Overloaded(const std::string& what) : std::runtime_error(what) {}
};

// The client-facing error for an exception that escaped a request or frame,
// logged with `context` (a request id, a user): warn for the two above,
// error (with the detail, which the client never sees) for anything else.
Error error_for_failure(std::exception_ptr failure, const std::string& context);

}  // namespace chatd
