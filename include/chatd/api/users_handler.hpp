// /v1/users: register, me, by id, prefix search.
#pragma once

#include "chatd/domain/account_service.hpp"
#include "chatd/api/call.hpp"

namespace chatd::api {

class UsersHandler {
 public:
  explicit UsersHandler(domain::AccountService& accounts) : accounts_(accounts) {}
  // Routes: see src/api/routes.cpp.
  Task<Response> create(Call call);
  Task<Response> me(Call call);
  Task<Response> by_id(Call call);
  Task<Response> search(Call call);
  Task<Response> settings(Call call);
  Task<Response> update_settings(Call call);

 private:
  domain::AccountService& accounts_;
};

}  // namespace chatd::api
