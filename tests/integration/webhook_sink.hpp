// A push gateway for tests: a small HTTP/1.1 server inside the test process
// that records every request chatd's push worker makes and answers 200 `{}`,
// or 500, or nothing at all, as the test tells it.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "harness.hpp"

namespace chatd::test {

struct SinkRequest {
  std::string method;
  std::string target;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  Json json;  // the body parsed; is_discarded() when it is not JSON
  std::chrono::steady_clock::time_point at;  // when the whole request had arrived
  int status = 0;  // the sink's answer: 200, 500, or 0 (hung: never answered)

  std::string header(const std::string& lower_name) const;
};

class WebhookSink {
 public:
  WebhookSink() = default;
  ~WebhookSink();
  WebhookSink(const WebhookSink&) = delete;
  WebhookSink& operator=(const WebhookSink&) = delete;

  // Listens on 127.0.0.1, an ephemeral port, and returns it. Throws when the
  // socket cannot be set up.
  std::uint16_t start();
  // Stops accepting, closes every connection (hung ones too) and joins every
  // thread. Idempotent; the destructor calls it.
  void stop();

  std::uint16_t port() const { return port_; }
  // "http://127.0.0.1:PORT/push"
  std::string url() const;

  // Every request so far, in arrival order.
  std::vector<SinkRequest> requests() const;
  // True once at least `count` requests have arrived within the timeout.
  bool wait_for(std::size_t count, std::chrono::milliseconds timeout) const;
  // True once pred holds for the requests so far within the timeout.
  bool wait_until(const std::function<bool(const std::vector<SinkRequest>&)>& pred,
                  std::chrono::milliseconds timeout) const;

  // The next n requests get 500 (replaces an earlier count).
  void fail_next(int n);
  // While on, every request gets 500.
  void fail_all(bool on);
  // While on, requests are read and recorded but never answered; such a
  // connection stays open until the client closes it or stop().
  void hang(bool on);

 private:
  struct Connection {
    int fd = -1;
    std::thread thread;
    std::atomic<bool> done{false};
  };

  void accept_loop();
  void serve(int fd);
  // Records the request and decides its answer (200, 500, or 0 to hang).
  int record(SinkRequest r);

  int listen_fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread acceptor_;

  std::mutex conns_mu_;
  std::list<std::unique_ptr<Connection>> conns_;

  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  std::vector<SinkRequest> requests_;
  int fail_next_ = 0;
  bool fail_all_ = false;
  bool hang_ = false;
};

}  // namespace chatd::test
