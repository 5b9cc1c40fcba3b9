// What a handler is given: the request, its path parameters by name, and on
// routes that need a session, the caller. The route table (src/api/routes.cpp)
// says which routes need one; the caller is authenticated before the handler
// runs, so a handler cannot forget to.
#pragma once

#include <cstdint>
#include <string_view>

#include "chatd/core/async.hpp"
#include "chatd/core/expected.hpp"
#include "chatd/http/message.hpp"
#include "chatd/http/router.hpp"
#include "chatd/model/user.hpp"

namespace chatd::api {

struct Call {
  http::Request request;
  http::PathParams path;
  model::User caller;  // set on session routes only

  // Path parameter `name` as a positive id; 400 naming `what` otherwise.
  Expected<std::int64_t> id(std::string_view name, std::string_view what) const;
};

using Response = http::Response;

}  // namespace chatd::api
