// /v1/conversations/{id}/messages and /events: send, history, edit, delete,
// reactions, and the log for catch-up.
#pragma once

#include "chatd/domain/account_service.hpp"
#include "chatd/domain/message_service.hpp"
#include "chatd/http/dispatcher.hpp"

namespace chatd::api {

class MessagesHandler {
 public:
  MessagesHandler(domain::AccountService& accounts, domain::MessageService& messages)
      : accounts_(accounts), messages_(messages) {}
  // Routes: see src/api/routes.cpp.
  Task<http::Response> send(http::Request request, http::PathParams params);
  Task<http::Response> history(http::Request request, http::PathParams params);
  Task<http::Response> edit(http::Request request, http::PathParams params);
  Task<http::Response> remove(http::Request request, http::PathParams params);
  Task<http::Response> add_reaction(http::Request request, http::PathParams params);
  Task<http::Response> remove_reaction(http::Request request, http::PathParams params);
  Task<http::Response> events(http::Request request, http::PathParams params);

 private:
  Task<http::Response> react(http::Request request, http::PathParams params, bool add);
  domain::AccountService& accounts_;
  domain::MessageService& messages_;
};

}  // namespace chatd::api
