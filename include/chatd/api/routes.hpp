// Every HTTP route of chatd, in one table (src/api/routes.cpp), with whether
// it needs a session.
#pragma once

#include "chatd/api/attachments_handler.hpp"
#include "chatd/api/blocks_handler.hpp"
#include "chatd/api/conversations_handler.hpp"
#include "chatd/api/health_handler.hpp"
#include "chatd/api/messages_handler.hpp"
#include "chatd/api/search_handler.hpp"
#include "chatd/api/sessions_handler.hpp"
#include "chatd/api/users_handler.hpp"
#include "chatd/http/dispatcher.hpp"

namespace chatd::api {

struct Handlers {
  domain::AccountService& accounts;  // authenticates the caller of session routes
  HealthHandler& health;
  UsersHandler& users;
  SessionsHandler& sessions;
  BlocksHandler& blocks;
  ConversationsHandler& conversations;
  MessagesHandler& messages;
  SearchHandler& search;
  AttachmentsHandler& attachments;
};

void register_routes(http::Dispatcher& dispatcher, const Handlers& h);

}  // namespace chatd::api
