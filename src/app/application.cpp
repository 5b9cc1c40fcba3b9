#include "chatd/app/application.hpp"

#include <sys/resource.h>

#include <utility>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <functional>
#include <memory>
#include <vector>
#include <thread>

#include <spdlog/spdlog.h>

#include "chatd/api/routes.hpp"
#include "chatd/app/logging.hpp"
#include "chatd/domain/account_service.hpp"
#include "chatd/domain/attachment_service.hpp"
#include "chatd/domain/conversation_service.hpp"
#include "chatd/domain/message_service.hpp"
#include "chatd/domain/search_service.hpp"
#include "chatd/http/dispatcher.hpp"
#include "chatd/net/server.hpp"
#include "chatd/net/webhook_client.hpp"
#include "chatd/net/websocket_gateway.hpp"
#include "chatd/push/push_worker.hpp"
#include "chatd/realtime/chat_port.hpp"
#include "chatd/realtime/client_session.hpp"
#include "chatd/realtime/hub.hpp"
#include "chatd/realtime/log_reader.hpp"
#include "chatd/realtime/presence.hpp"
#include "chatd/store/blob_store.hpp"
#include "chatd/store/notify_channel.hpp"
#include "chatd/store/db_pool.hpp"
#include "chatd/core/process_metrics.hpp"
#include "chatd/store/migrations.hpp"

namespace chatd::app {

namespace {

std::vector<store::Migration> load(const Config& config) {
  return config.migrations_dir.empty() ? store::embedded_migrations()
                                       : store::load_migrations(config.migrations_dir);
}

// Returns false (after logging why) when the schema cannot be brought current.
bool apply_pending(const Config& config, const std::vector<store::Migration>& migrations) {
  // The database may still be starting (containers): retry a connection failure briefly.
  for (int attempt = 1;; ++attempt) {
    try {
      auto report = store::apply_migrations(config.database_url, migrations);
      spdlog::info("schema at version {} ({} migration(s) applied now)", report.current,
                   report.applied);
      return true;
    } catch (const store::MigrationError& e) {
      spdlog::critical("migrations: {}", e.what());
      return false;
    } catch (const store::Unavailable& e) {
      if (attempt >= 10) {
        spdlog::critical("migrations: {}", e.what());
        return false;
      }
      spdlog::warn("migrations: {} (attempt {}/10)", e.what(), attempt);
      std::this_thread::sleep_for(std::chrono::seconds(1));
    } catch (const std::exception& e) {
      spdlog::critical("migrations: {}", e.what());
      return false;
    }
  }
}

void raise_descriptor_limit() {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) == 0) {
    if (lim.rlim_cur < lim.rlim_max) {
      lim.rlim_cur = lim.rlim_max;
      setrlimit(RLIMIT_NOFILE, &lim);
      getrlimit(RLIMIT_NOFILE, &lim);
    }
    spdlog::info("file descriptor limit {}", static_cast<unsigned long long>(lim.rlim_cur));
  }
}

// Polls until the server has nothing in flight and every WebSocket session
// has ended (each answers its frames in flight, then closes with 1001), or
// the deadline passes, then stops the IO loops.
void drain_then_stop(const std::function<void()>& stop_io, net::Server& server,
                     const std::function<std::size_t()>& sockets,
                     std::shared_ptr<boost::asio::steady_timer> timer,
                     std::chrono::steady_clock::time_point deadline) {
  if ((server.requests_in_flight() == 0 && server.open_connections() == 0 && sockets() == 0) ||
      std::chrono::steady_clock::now() >= deadline) {
    if (server.requests_in_flight() > 0 || sockets() > 0) {
      spdlog::warn("shutdown deadline passed with {} request(s) in flight and {} WebSocket(s) open",
                   server.requests_in_flight(), sockets());
    }
    stop_io();
    return;
  }
  timer->expires_after(std::chrono::milliseconds(20));
  timer->async_wait([&stop_io, &server, &sockets, timer, deadline](const boost::system::error_code&) {
    drain_then_stop(stop_io, server, sockets, timer, deadline);
  });
}

}  // namespace

int migrate(const Config& config) {
  try {
    return apply_pending(config, load(config)) ? 0 : 1;
  } catch (const std::exception& e) {
    spdlog::critical("migrations: {}", e.what());
    return 1;
  }
}

int serve(const Config& config) {
  raise_descriptor_limit();
  std::vector<store::Migration> migrations;
  try {
    migrations = load(config);
  } catch (const std::exception& e) {
    spdlog::critical("migrations: {}", e.what());
    return 1;
  }
  if (!apply_pending(config, migrations)) return 1;

  // One io_context per IO thread, each run by that thread alone: a connection
  // stays on one thread, so it needs no strand (a fifth of the cost of a small
  // request in a profile). The first context also runs the acceptor, signals
  // and timers.
  std::vector<std::unique_ptr<boost::asio::io_context>> io;
  for (int i = 0; i < config.threads; ++i) io.push_back(std::make_unique<boost::asio::io_context>(1));
  boost::asio::io_context& ioc = *io.front();
  std::vector<boost::asio::io_context*> io_ptrs;
  for (auto& c : io) io_ptrs.push_back(c.get());
  using Guard = boost::asio::executor_work_guard<boost::asio::io_context::executor_type>;
  std::vector<Guard> keep_running;
  for (auto& c : io) keep_running.push_back(boost::asio::make_work_guard(*c));
  std::function<void()> stop_io = [&io, &keep_running] {
    for (auto& g : keep_running) g.reset();
    for (auto& c : io) c->stop();
  };
  Metrics metrics;
  std::atomic<bool> draining{false};
  store::DbPool db(config.database_url, static_cast<std::size_t>(config.db_pool),
                   static_cast<std::size_t>(config.db_queue));
  register_process_metrics(metrics, CHATD_VERSION);
  metrics.histogram("chatd_db_transaction_duration_seconds",
                    "Time a database transaction of the pool took on its worker: its "
                    "statements and commit (most are one statement).",
                    std::vector<double>(Metrics::kLatencyBuckets.begin(), Metrics::kLatencyBuckets.end()));
  db.observe_transactions(
      [&metrics](double s) { metrics.observe("chatd_db_transaction_duration_seconds", s); });
  WorkerPool cpu("cpu", std::max(1u, std::thread::hardware_concurrency()), 1024);
  domain::PasswordHasher hasher({config.password_hash_ops, config.password_hash_mem_kib});
  const std::string channel_name = "chatd_events";
  store::NotifyChannel channel(config.database_url, channel_name);
  realtime::StoreLogReader log_reader(config.database_url);
  auto presence_expiry = std::max<std::chrono::seconds>(
      std::chrono::seconds(1),
      std::chrono::duration_cast<std::chrono::seconds>(config.presence_heartbeat * 5));
  realtime::StorePresenceBackend presence_db(config.database_url, channel_name, presence_expiry);
  realtime::Presence::Options presence_options;
  presence_options.heartbeat = config.presence_heartbeat;
  realtime::Hub hub(channel, log_reader, presence_db, metrics, {}, presence_options);
  domain::AccountService accounts(db, cpu, hasher, hub, config.rate_logins,
                                  config.default_dm_policy);
  hub.on_revocations([&accounts](const std::string& h) { accounts.forget_token(h); },
                     [&accounts] { accounts.forget_all_tokens(); });
  domain::ConversationService conversations(db, hub, config.max_group_size);
  metrics.counter_fn("chatd_conversation_ends_reads_total",
                     "Statements that read where a user's conversations stand, for sockets "
                     "starting, rechecking or syncing (many users each).",
                     [&conversations] { return static_cast<double>(conversations.ends().reads()); });
  metrics.counter_fn("chatd_conversation_ends_users_total",
                     "Users those statements answered.",
                     [&conversations] { return static_cast<double>(conversations.ends().users_read()); });
  metrics.gauge("chatd_conversation_ends_pending",
                "Sockets waiting for, or in, a read of where their conversations stand.",
                [&conversations] { return static_cast<double>(conversations.ends().pending()); });
  domain::SendBatcher::Options batching;
  batching.max_batch = config.send_batch;
  batching.wait = std::chrono::microseconds(config.send_batch_wait_us);
  // Half the pool at most commits send batches; the rest stays free for reads.
  // Unbatched (--send-batch 1), every connection may commit a send.
  batching.max_in_flight =
      config.send_batch == 1 ? db.size() : std::max<std::size_t>(1, db.size() / 2);
  batching.max_pending = static_cast<std::size_t>(config.db_queue);
  batching.stored = &metrics.counter("chatd_messages_stored_total", "Messages committed.");
  batching.commits = &metrics.counter(
      "chatd_send_commits_total",
      "Transactions that committed at least one new message (group commit); a batch of "
      "repeats only is not counted.");
  // The push outbox: jobs commit with their messages; workers hand them to the webhook.
  std::unique_ptr<net::WebhookClient> webhook;
  std::unique_ptr<push::PushWorker> pusher;
  if (!config.push_webhook.empty()) {
    batching.push_delay = config.push_delay;
    webhook = std::make_unique<net::WebhookClient>(*push::parse_endpoint(config.push_webhook),
                                                   config.push_timeout);
    push::PushWorker::Options push_options;
    push_options.give_up = std::chrono::duration_cast<std::chrono::seconds>(config.push_give_up);
    push_options.online_expiry = presence_expiry;
    pusher = std::make_unique<push::PushWorker>(config.database_url, *webhook, metrics, push_options);
  }
  domain::MessageService messages(db, hub, batching, config.rate_sends);
  metrics.counter_fn("chatd_history_newest_page_hits_total",
                     "Newest-page history reads answered from the page kept for the "
                     "conversation's current last seq.",
                     [&messages] { return static_cast<double>(messages.newest_pages().hits()); });
  metrics.counter_fn("chatd_history_newest_page_misses_total",
                     "Newest-page history reads that read the page from the database.",
                     [&messages] { return static_cast<double>(messages.newest_pages().misses()); });

  http::Dispatcher dispatcher(metrics, http::Cors(config.cors_origins));
  api::HealthHandler health(db, migrations, metrics, draining, [&hub] { return hub.listening(); });
  api::UsersHandler users(accounts);
  api::SessionsHandler sessions(accounts);
  api::ConversationsHandler conversations_api(conversations);
  api::MessagesHandler messages_api(messages);
  api::BlocksHandler blocks_api(conversations);
  domain::SearchService search(db);
  api::SearchHandler search_api(search);
  // Attachments: files under --data-dir, read and written on the disk pool.
  std::unique_ptr<store::BlobStore> blobs;
  try {
    blobs = std::make_unique<store::BlobStore>(config.data_dir);
  } catch (const std::exception& e) {
    spdlog::critical("--data-dir (CHATD_DATA_DIR) {}: {}", config.data_dir, e.what());
    return 1;
  }
  WorkerPool disk("disk", 2, 1024);
  domain::AttachmentService attachments(db, disk, *blobs, config.attachment_limit);
  api::AttachmentsHandler attachments_api(attachments);
  domain::AttachmentSweeper::Options sweep_options;
  sweep_options.ttl = std::chrono::duration_cast<std::chrono::seconds>(config.attachment_ttl);
  sweep_options.interval = config.sweep_interval;
  // Files are only removed once they are this old: an hour, or the TTL when
  // that is shorter (tests).
  sweep_options.grace = std::min(sweep_options.ttl, std::chrono::seconds(3600));
  domain::AttachmentSweeper sweeper(config.database_url, *blobs, metrics, sweep_options);
  api::register_routes(dispatcher, {accounts, health, users, sessions, blocks_api, conversations_api,
                                    messages_api, search_api, attachments_api});

  net::ServerOptions options;
  options.host = config.listen_host;
  options.port = config.listen_port;
  options.body_limit = config.body_limit;
  options.header_limit = config.header_limit;
  options.idle_timeout = config.idle_timeout;
  options.read_timeout = config.read_timeout;
  options.disk = &disk;
  realtime::DomainChatPort chat(messages, conversations);
  net::WebSocketGateway gateway{accounts, chat, hub};
  gateway.cors = &dispatcher.cors();
  gateway.idle_timeout = config.ws_idle_timeout;
  gateway.max_queued_frames = config.ws_max_queue;
  gateway.max_queued_bytes = config.ws_max_queue_bytes;
  gateway.accept_rate =
      std::make_shared<TokenBucket>(config.ws_accept_rate, config.ws_accept_rate);
  // One series per close code chatd uses or a client commonly sends; any
  // other code shares "other", so clients cannot create series without bound.
  std::map<std::uint16_t, std::atomic<std::uint64_t>*> closes;
  for (std::uint16_t code : {1000, 1001, 1002, 1003, 1005, 1006, 1007, 1008, 1009, 1011, 1013}) {
    closes[code] = &metrics.counter("chatd_websocket_closes_total",
                                    "WebSockets closed, by close code (1006: no close frame).",
                                    "code=\"" + std::to_string(code) + "\"");
  }
  auto* other_close = &metrics.counter("chatd_websocket_closes_total", "", "code=\"other\"");
  gateway.on_close = [closes, other_close](std::uint16_t code) {
    auto it = closes.find(code);
    (it == closes.end() ? other_close : it->second)->fetch_add(1, std::memory_order_relaxed);
  };
  metrics.histogram("chatd_websocket_send_duration_seconds",
                    "Time from a WebSocket send frame's arrival to its answer (ack or error).",
                    std::vector<double>(Metrics::kLatencyBuckets.begin(), Metrics::kLatencyBuckets.end()));
  gateway.on_send_answered = [&metrics](double s) {
    metrics.observe("chatd_websocket_send_duration_seconds", s);
  };
  net::Server server(ioc, options, dispatcher, &gateway, io_ptrs);

  metrics.gauge("chatd_db_pool_size", "Database connections in the pool.",
                [&db] { return static_cast<double>(db.size()); });
  metrics.gauge("chatd_db_pool_in_use", "Database connections running a job.",
                [&db] { return static_cast<double>(db.in_use()); });
  metrics.gauge("chatd_db_pool_waiting", "Database jobs waiting for a connection.",
                [&db] { return static_cast<double>(db.waiting()); });
  metrics.gauge("chatd_http_connections", "Open HTTP connections.",
                [&server] { return static_cast<double>(server.open_connections()); });
  metrics.gauge("chatd_websocket_sockets",
                "WebSocket TCP sockets open after their upgrade, closing handshakes included.",
                [&server] { return static_cast<double>(server.open_websockets()); });
  metrics.gauge("chatd_http_requests_in_flight", "HTTP requests being handled.",
                [&server] { return static_cast<double>(server.requests_in_flight()); });

  std::uint16_t port = 0;
  try {
    port = server.start();
  } catch (const std::exception& e) {
    spdlog::critical("--listen (CHATD_LISTEN) {}:{}: cannot listen: {}", config.listen_host,
                     config.listen_port, e.what());
    return 1;
  }
  hub.start();
  sweeper.start();
  if (pusher) {
    pusher->start();
    spdlog::info("push: jobs go to {} ({} ms after their message)", config.push_webhook,
                 config.push_delay.count());
  }
  // Say "listening" once live delivery hears the other instances too (the
  // migrations just reached the database, so this takes milliseconds);
  // /readyz reports it either way.
  for (int i = 0; i < 200 && !hub.listening(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (!hub.listening()) spdlog::warn("notify: not listening yet; /readyz says so until it is");
  spdlog::info("chatd listening on {}:{} ({} IO threads, {} database connections)",
               config.listen_host, port, config.threads, config.db_pool);
  flush_logs();

  std::function<std::size_t()> sockets = [&hub] { return hub.connections(); };
  boost::asio::signal_set signals(ioc, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int signo) {
    if (ec) return;
    spdlog::info("signal {}: draining (up to {} ms)", signo, config.shutdown_timeout.count());
    draining = true;
    server.begin_shutdown();
    // WebSockets close with 1001 once their frames in flight are answered.
    for (const auto& s : hub.subscribers()) s->shutdown();
    auto timer = std::make_shared<boost::asio::steady_timer>(ioc);
    drain_then_stop(stop_io, server, sockets, timer,
                    std::chrono::steady_clock::now() + config.shutdown_timeout);
  });

  std::vector<std::thread> threads;
  for (std::size_t i = 1; i < io.size(); ++i) {
    threads.emplace_back([c = io[i].get()] { c->run(); });
  }
  ioc.run();
  for (auto& t : threads) t.join();

  // Sends still queued commit while the pool stops; announce them before the
  // hub (and its NOTIFY publisher) stops.
  db.stop();
  disk.stop();
  sweeper.stop();
  if (pusher) pusher->stop();
  hub.stop();
  cpu.stop();
  spdlog::info("chatd stopped");
  flush_logs();
  return 0;
}

}  // namespace chatd::app
