#include "chatd/store/notify_channel.hpp"

#include <pthread.h>

#include <chrono>

#include <pqxx/pqxx>
#include <spdlog/spdlog.h>

namespace chatd::store {

namespace {
constexpr std::size_t kMaxQueued = 100'000;
// NOTIFY payloads must stay under 8000 bytes; several references share one.
constexpr std::size_t kMaxPayload = 7900;

class Receiver final : public pqxx::notification_receiver {
 public:
  Receiver(pqxx::connection_base& c, const std::string& channel,
           const NotifyChannel::Handler& handler)
      : pqxx::notification_receiver(c, channel), handler_(handler) {}
  void operator()(const std::string& payload, int) override {
    // Batched payloads: references separated by ';'.
    std::size_t start = 0;
    while (start < payload.size()) {
      auto end = payload.find(';', start);
      if (end == std::string::npos) end = payload.size();
      if (end > start) handler_(payload.substr(start, end - start));
      start = end + 1;
    }
  }

 private:
  const NotifyChannel::Handler& handler_;
};
}  // namespace

NotifyChannel::NotifyChannel(std::string database_url, std::string channel)
    : url_(std::move(database_url)), channel_(std::move(channel)) {}

NotifyChannel::~NotifyChannel() { stop(); }

void NotifyChannel::start(Handler on_message, Reset on_reset) {
  on_message_ = std::move(on_message);
  on_reset_ = std::move(on_reset);
  publisher_ = std::thread([this] { publish_loop(); });
  pthread_setname_np(publisher_.native_handle(), "notify-pub");
  listener_ = std::thread([this] { listen_loop(); });
  pthread_setname_np(listener_.native_handle(), "notify-listen");
}

void NotifyChannel::stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  cv_.notify_all();
  if (publisher_.joinable()) publisher_.join();
  if (listener_.joinable()) listener_.join();
}

void NotifyChannel::publish(std::string payload) {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    if (queue_.size() >= kMaxQueued) {
      ++dropped_;
      return;
    }
    queue_.push_back(std::move(payload));
  }
  cv_.notify_one();
}

void NotifyChannel::publish_loop() {
  std::unique_ptr<pqxx::connection> conn;
  std::deque<std::string> batch;
  for (;;) {
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this, &batch] { return stopping_ || !queue_.empty() || !batch.empty(); });
      if (stopping_ && queue_.empty() && batch.empty()) return;
      while (!queue_.empty()) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    try {
      if (!conn || !conn->is_open()) conn = std::make_unique<pqxx::connection>(url_);
      pqxx::work tx(*conn);
      std::string payload;
      for (const auto& ref : batch) {
        if (!payload.empty() && payload.size() + ref.size() + 1 > kMaxPayload) {
          tx.exec_params("SELECT pg_notify($1, $2)", channel_, payload);
          payload.clear();
        }
        if (!payload.empty()) payload += ';';
        payload += ref;
      }
      if (!payload.empty()) tx.exec_params("SELECT pg_notify($1, $2)", channel_, payload);
      tx.commit();
      batch.clear();
    } catch (const std::exception& e) {
      spdlog::warn("notify: publish failed, retrying: {}", e.what());
      conn.reset();
      if (batch.size() > kMaxQueued) {
        dropped_ += batch.size();
        batch.clear();
      }
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, std::chrono::milliseconds(250), [this] { return stopping_; });
      if (stopping_) return;
    }
  }
}

void NotifyChannel::listen_loop() {
  bool first = true;
  while (true) {
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
    }
    try {
      pqxx::connection conn(url_);
      Receiver receiver(conn, channel_, on_message_);
      conn.get_notifs();  // issues the LISTEN
      listening_ = true;
      if (!first) {
        spdlog::info("notify: listening again; catching up from the log");
        on_reset_();
      }
      first = false;
      auto last_probe = std::chrono::steady_clock::now();
      for (;;) {
        {
          std::lock_guard lock(mu_);
          if (stopping_) break;
        }
        conn.await_notification(0, 200'000);
        conn.get_notifs();
        // A half-open connection never errors by itself: probe it, so a dead
        // link is noticed (and everything re-read) within seconds.
        auto now = std::chrono::steady_clock::now();
        if (now - last_probe > std::chrono::seconds(5)) {
          pqxx::nontransaction(conn).exec("SELECT 1");
          last_probe = now;
        }
      }
      listening_ = false;
      conn.disconnect();
      return;
    } catch (const std::exception& e) {
      if (listening_) spdlog::warn("notify: listener lost its connection: {}", e.what());
      listening_ = false;
      first = false;
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, std::chrono::milliseconds(250), [this] { return stopping_; });
    }
  }
}

}  // namespace chatd::store
