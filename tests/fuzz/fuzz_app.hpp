// chatd's HTTP API as the server wires it (src/app/application.cpp), on a
// database that cannot be reached: for fuzzing the parse, routing, body
// checks and error mapping of every route without a network.
#pragma once

// Asio 1.18 needs std::exchange before awaitable.hpp is parsed.
#include <utility>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <atomic>
#include <optional>

#include "chatd/api/blocks_handler.hpp"
#include "chatd/api/conversations_handler.hpp"
#include "chatd/api/health_handler.hpp"
#include "chatd/api/messages_handler.hpp"
#include "chatd/api/routes.hpp"
#include "chatd/api/sessions_handler.hpp"
#include "chatd/api/users_handler.hpp"
#include "chatd/domain/account_service.hpp"
#include "chatd/domain/conversation_service.hpp"
#include "chatd/domain/message_service.hpp"
#include "chatd/domain/search_service.hpp"
#include "chatd/http/dispatcher.hpp"
#include "chatd/store/blob_store.hpp"
#include "chatd/store/db_pool.hpp"
#include "chatd/store/migrations.hpp"

namespace chatd::fuzz {

struct App {
  Metrics metrics;
  std::atomic<bool> draining{false};
  // Port 1 on loopback refuses at once: every database call is Unavailable.
  store::DbPool db{"host=127.0.0.1 port=1 user=none dbname=none connect_timeout=1", 1, 64};
  WorkerPool cpu{"cpu", 1, 64};
  domain::PasswordHasher hasher{{1, 8}};
  domain::NoPublisher publisher;
  domain::AccountService accounts{db, cpu, hasher, publisher};
  domain::ConversationService conversations{db, publisher};
  domain::MessageService messages{db, publisher};
  http::Dispatcher dispatcher{metrics, http::Cors({"https://web.example.com"})};
  api::HealthHandler health{db, store::embedded_migrations(), metrics, draining, [] { return true; }};
  api::UsersHandler users{accounts};
  api::SessionsHandler sessions{accounts};
  api::ConversationsHandler conversations_api{conversations};
  api::MessagesHandler messages_api{messages};
  api::BlocksHandler blocks_api{conversations};
  domain::SearchService search{db};
  api::SearchHandler search_api{search};
  WorkerPool disk{"disk", 1, 64};
  store::BlobStore blobs{"/tmp/chatd-fuzz-blobs"};
  domain::AttachmentService attachments{db, disk, blobs, 1 << 20};
  api::AttachmentsHandler attachments_api{attachments};

  App() {
    api::register_routes(dispatcher, {accounts, health, users, sessions, blocks_api, conversations_api,
                                      messages_api, search_api, attachments_api});
  }
  ~App() {
    db.stop();
    cpu.stop();
    disk.stop();
  }

  http::Response run(http::Request request) {
    boost::asio::io_context io;
    std::optional<http::Response> out;
    boost::asio::co_spawn(io, dispatcher.handle(std::move(request)),
                          [&out](std::exception_ptr e, http::Response r) {
                            if (e) std::abort();  // the dispatcher must never throw
                            out = std::move(r);
                          });
    io.run();
    if (!out) std::abort();
    return std::move(*out);
  }
};

}  // namespace chatd::fuzz
