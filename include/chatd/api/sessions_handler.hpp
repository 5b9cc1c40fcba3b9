// /v1/sessions: log in (create a token), log out (revoke it).
#pragma once

#include "chatd/domain/account_service.hpp"
#include "chatd/http/dispatcher.hpp"

namespace chatd::api {

class SessionsHandler {
 public:
  explicit SessionsHandler(domain::AccountService& accounts) : accounts_(accounts) {}
  // Routes: see src/api/routes.cpp.
  Task<http::Response> create(http::Request request, http::PathParams params);
  Task<http::Response> remove_current(http::Request request, http::PathParams params);

 private:
  domain::AccountService& accounts_;
};

}  // namespace chatd::api
