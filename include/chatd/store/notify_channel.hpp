// Cross-instance signals over PostgreSQL LISTEN/NOTIFY. Payloads are small
// references ("e:<conversation>:<from>:<to>", ...); receivers read the
// events themselves from the log. Publishing is batched on a dedicated
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

namespace chatd::store {

class NotifyChannel {
 public:
  using Handler = std::function<void(const std::string& payload)>;
  using Reset = std::function<void()>;

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
