// The push hand-off (API.md, "Push hand-off"): worker threads that take due
// jobs from the outbox and POST them to the gateway.
//
// Each step, in one transaction on the worker's own connection: claim the
// jobs of the user whose job fell due first (their other jobs due within a
// second and never tried go along; a retry goes as exactly the batch that
// failed), drop those to skip (online, read, muted, left, deleted),
// POST the rest as one notification, then delete them (2xx) or schedule them
// again (1 s doubling to 10 min) until they are older than `give_up` and
// count as failed. The transaction holds the claimed rows locked through the
// POST, so no other worker, here or on another instance, sends them; if the
// process dies mid-POST the rows unlock and are sent again later, with the
// same Idempotency-Key. The worker's connection is its own, outside the
// request pool: it stays in a transaction for as long as the gateway takes.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "chatd/core/metrics.hpp"
#include "chatd/push/gateway.hpp"

namespace chatd::push {

class PushWorker {
 public:
  struct Options {
    int threads = 2;
    std::chrono::milliseconds coalesce{1000};      // a user's jobs due this close go together
    std::chrono::seconds give_up{24 * 3600};
    std::chrono::seconds online_expiry{15};        // presence rows of instances seen this recently count
    std::chrono::milliseconds idle_poll{200};      // between looks when nothing was due
  };

  PushWorker(std::string database_url, Gateway& gateway, Metrics& metrics, Options options);
  ~PushWorker();
  PushWorker(const PushWorker&) = delete;
  PushWorker& operator=(const PushWorker&) = delete;

  void start();
  // Finishes the POSTs in flight (each bounded by the gateway's timeout).
  void stop();

 private:
  void run(int index);
  // One claimed user's jobs; false when nothing was due.
  bool step(class Session& s);

  std::string url_;
  Gateway& gateway_;
  Metrics& metrics_;
  Options opt_;
  std::atomic<std::uint64_t>& delivered_;
  std::atomic<std::uint64_t>& failed_;
  std::atomic<std::uint64_t>& skipped_;
  std::atomic<std::uint64_t>& retries_;
  std::atomic<std::int64_t> pending_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace chatd::push
