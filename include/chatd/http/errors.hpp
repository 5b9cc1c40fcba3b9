// The one place where an error kind becomes an HTTP status and the contract's
// error body {"error": {"code", "message"}}.
#pragma once

#include "chatd/core/expected.hpp"
#include "chatd/http/message.hpp"

namespace chatd::http {

int status_for(ErrorKind kind);
Response error_response(const Error& error);

}  // namespace chatd::http
