// /v1/sessions: log in (create a token), log out (revoke it).
#pragma once

#include "chatd/domain/account_service.hpp"
#include "chatd/api/call.hpp"

namespace chatd::api {

class SessionsHandler {
 public:
  explicit SessionsHandler(domain::AccountService& accounts) : accounts_(accounts) {}
  // Routes: see src/api/routes.cpp.
  Task<Response> create(Call call);
  Task<Response> remove_current(Call call);

 private:
  domain::AccountService& accounts_;
};

}  // namespace chatd::api
