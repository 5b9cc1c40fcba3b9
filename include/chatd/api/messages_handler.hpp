// /v1/conversations/{id}/messages and /events: send, history, edit, delete,
// reactions, and the log for catch-up.
#pragma once

#include "chatd/domain/message_service.hpp"
#include "chatd/api/call.hpp"

namespace chatd::api {

class MessagesHandler {
 public:
  explicit MessagesHandler(domain::MessageService& messages) : messages_(messages) {}
  // Routes: see src/api/routes.cpp.
  Task<Response> send(Call call);
  Task<Response> history(Call call);
  Task<Response> edit(Call call);
  Task<Response> remove(Call call);
  Task<Response> add_reaction(Call call);
  Task<Response> remove_reaction(Call call);
  Task<Response> events(Call call);

 private:
  Task<Response> react(Call call, bool add);
  domain::MessageService& messages_;
};

}  // namespace chatd::api
