// Cross-instance signals over PostgreSQL LISTEN/NOTIFY. Messages are small
// references (realtime/notice.hpp) that never contain ';': several are joined
// with ';' into one payload of at most kMaxPayload bytes, and the listener
// hands them over one by one. Receivers read events themselves from the log.
// Both connections probe the server when idle, so a database that restarted
// is noticed within about a second, not at the next publish. Publishing is
// batched on a dedicated
// connection, never inside a message transaction (a NOTIFYing commit takes a
// cluster-wide lock). Listening uses another dedicated connection outside the
// pool; after it reconnects, `on_reset` runs because notifications sent while
// it was away are gone for good.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <atomic>
#include <vector>

namespace chatd::store {

class NotifyChannel {
 public:
  using Handler = std::function<void(const std::string& message)>;
  using Reset = std::function<void()>;
  // NOTIFY payloads must stay under 8000 bytes.
  static constexpr std::size_t kMaxPayload = 7900;

  // Joins messages into as few payloads as fit.
  static std::vector<std::string> pack(const std::vector<std::string>& messages);

  NotifyChannel(std::string database_url, std::string channel);
  ~NotifyChannel();

  // Starts both threads. on_message runs on the listener thread.
  void start(Handler on_message, Reset on_reset);
  void stop();

  // Queues a payload for the next batch; never blocks. Drops (and counts)
  // beyond a bound: receivers recover from the log.
  void publish(std::string payload);
  std::uint64_t dropped() const { return dropped_.load(); }
  bool listening() const { return listening_.load(); }

 private:
  void publish_loop();
  void listen_loop();

  std::string url_;
  std::string channel_;
  Handler on_message_;
  Reset on_reset_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> queue_;
  bool stopping_ = false;
  std::atomic<bool> listening_{false};
  std::atomic<std::uint64_t> dropped_{0};
  std::thread publisher_;
  std::thread listener_;
};

}  // namespace chatd::store
