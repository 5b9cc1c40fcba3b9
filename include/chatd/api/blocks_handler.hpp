// /v1/users/me/blocks: block, unblock, list.
#pragma once

#include "chatd/domain/conversation_service.hpp"
#include "chatd/api/call.hpp"

namespace chatd::api {

class BlocksHandler {
 public:
  explicit BlocksHandler(domain::ConversationService& conversations)
      : conversations_(conversations) {}
  // Routes: see src/api/routes.cpp.
  Task<Response> block(Call call);
  Task<Response> unblock(Call call);
  Task<Response> list(Call call);

 private:
  domain::ConversationService& conversations_;
};

}  // namespace chatd::api
