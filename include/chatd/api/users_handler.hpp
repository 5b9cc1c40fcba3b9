// /v1/users: register, me, by id, prefix search.
#pragma once

#include "chatd/domain/account_service.hpp"
#include "chatd/http/dispatcher.hpp"

namespace chatd::api {

class UsersHandler {
 public:
  explicit UsersHandler(domain::AccountService& accounts) : accounts_(accounts) {}
  void register_routes(http::Dispatcher& dispatcher);

 private:
  Task<http::Response> create(http::Request request, http::PathParams params);
  Task<http::Response> me(http::Request request, http::PathParams params);
  Task<http::Response> by_id(http::Request request, http::PathParams params);
  Task<http::Response> search(http::Request request, http::PathParams params);

  domain::AccountService& accounts_;
};

}  // namespace chatd::api
