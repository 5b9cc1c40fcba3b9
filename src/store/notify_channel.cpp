#include "chatd/store/notify_channel.hpp"

#include <pthread.h>

#include <chrono>

#include <pqxx/pqxx>
#include <spdlog/spdlog.h>

namespace chatd::store {

namespace {
constexpr std::size_t kMaxQueued = 100'000;
// An idle connection is probed this often: a restarted server is noticed.
constexpr auto kProbeEvery = std::chrono::seconds(1);

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

std::vector<std::string> NotifyChannel::pack(const std::vector<std::string>& messages) {
  std::vector<std::string> out;
  std::string payload;
  for (const auto& m : messages) {
    if (!payload.empty() && payload.size() + 1 + m.size() > kMaxPayload) {
      out.push_back(std::move(payload));
      payload.clear();
    }
    if (!payload.empty()) payload += ';';
    payload += m;
  }
  if (!payload.empty()) out.push_back(std::move(payload));
  return out;
}

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
  std::vector<std::string> batch;
  auto last_used = std::chrono::steady_clock::now();
  for (;;) {
    bool probe = false;
    {
      std::unique_lock lock(mu_);
      bool woke = cv_.wait_for(lock, kProbeEvery, [this, &batch] {
        return stopping_ || !queue_.empty() || !batch.empty();
      });
      if (stopping_ && queue_.empty() && batch.empty()) return;
      while (!queue_.empty()) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      probe = !woke && conn && std::chrono::steady_clock::now() - last_used >= kProbeEvery;
    }
    try {
      if (probe) {
        // Idle: find a dead connection now rather than at the next publish.
        pqxx::nontransaction(*conn).exec("SELECT 1");
        last_used = std::chrono::steady_clock::now();
        continue;
      }
      if (batch.empty()) continue;
      if (!conn || !conn->is_open()) {
        conn = std::make_unique<pqxx::connection>(url_);
        pqxx::nontransaction(*conn).exec("SET application_name = 'chatd-publish'");
      }
      pqxx::work tx(*conn);
      for (const auto& payload : pack(batch)) {
        tx.exec_params("SELECT pg_notify($1, $2)", channel_, payload);
      }
      tx.commit();
      batch.clear();
      last_used = std::chrono::steady_clock::now();
    } catch (const std::exception& e) {
      bool was_probe = probe;
      conn.reset();
      if (was_probe) {
        spdlog::warn("notify: publisher lost its connection: {}", e.what());
        continue;  // reconnects at the next publish
      }
      spdlog::warn("notify: publish failed, retrying: {}", e.what());
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
      // Named, so that operators (and tests) can find it in pg_stat_activity.
      pqxx::nontransaction(conn).exec("SET application_name = 'chatd-listen'");
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
        // link is noticed (and everything re-read) within about a second.
        auto now = std::chrono::steady_clock::now();
        if (now - last_probe >= kProbeEvery) {
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
