// /v1/conversations: create (direct or group), list, read one, rename,
// members, read marker.
#pragma once

#include "chatd/domain/account_service.hpp"
#include "chatd/domain/conversation_service.hpp"
#include "chatd/http/dispatcher.hpp"

namespace chatd::api {

class ConversationsHandler {
 public:
  ConversationsHandler(domain::AccountService& accounts, domain::ConversationService& conversations)
      : accounts_(accounts), conversations_(conversations) {}
  // Routes: see src/api/routes.cpp.
  Task<http::Response> create(http::Request request, http::PathParams params);
  Task<http::Response> list(http::Request request, http::PathParams params);
  Task<http::Response> get(http::Request request, http::PathParams params);
  Task<http::Response> update(http::Request request, http::PathParams params);
  Task<http::Response> add_member(http::Request request, http::PathParams params);
  Task<http::Response> remove_member(http::Request request, http::PathParams params);
  Task<http::Response> read(http::Request request, http::PathParams params);

 private:
  domain::AccountService& accounts_;
  domain::ConversationService& conversations_;
};

}  // namespace chatd::api
