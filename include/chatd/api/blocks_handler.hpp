// /v1/users/me/blocks: block, unblock, list.
#pragma once

#include "chatd/domain/account_service.hpp"
#include "chatd/domain/conversation_service.hpp"
#include "chatd/http/dispatcher.hpp"

namespace chatd::api {

class BlocksHandler {
 public:
  BlocksHandler(domain::AccountService& accounts, domain::ConversationService& conversations)
      : accounts_(accounts), conversations_(conversations) {}
  // Routes: see src/api/routes.cpp.
  Task<http::Response> block(http::Request request, http::PathParams params);
  Task<http::Response> unblock(http::Request request, http::PathParams params);
  Task<http::Response> list(http::Request request, http::PathParams params);

 private:
  domain::AccountService& accounts_;
  domain::ConversationService& conversations_;
};

}  // namespace chatd::api
