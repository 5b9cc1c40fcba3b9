// /v1/conversations: create (direct or group), list, read one, rename,
// members, read marker.
#pragma once

#include "chatd/domain/conversation_service.hpp"
#include "chatd/api/call.hpp"

namespace chatd::api {

class ConversationsHandler {
 public:
  explicit ConversationsHandler(domain::ConversationService& conversations)
      : conversations_(conversations) {}
  // Routes: see src/api/routes.cpp.
  Task<Response> create(Call call);
  Task<Response> list(Call call);
  Task<Response> get(Call call);
  Task<Response> update(Call call);
  Task<Response> add_member(Call call);
  Task<Response> remove_member(Call call);
  Task<Response> set_role(Call call);
  Task<Response> mute(Call call);
  Task<Response> unmute(Call call);
  Task<Response> read(Call call);
  Task<Response> accept(Call call);
  Task<Response> decline(Call call);

 private:
  domain::ConversationService& conversations_;
};

}  // namespace chatd::api
