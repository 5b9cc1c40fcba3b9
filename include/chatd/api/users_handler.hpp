// /v1/users: register, me, by id, prefix search.
#pragma once

#include "chatd/domain/account_service.hpp"
#include "chatd/http/dispatcher.hpp"

namespace chatd::api {

class UsersHandler {
 public:
  explicit UsersHandler(domain::AccountService& accounts) : accounts_(accounts) {}
  // Routes: see src/api/routes.cpp.
  Task<http::Response> create(http::Request request, http::PathParams params);
  Task<http::Response> me(http::Request request, http::PathParams params);
  Task<http::Response> by_id(http::Request request, http::PathParams params);
  Task<http::Response> search(http::Request request, http::PathParams params);

 private:
  domain::AccountService& accounts_;
};

}  // namespace chatd::api
