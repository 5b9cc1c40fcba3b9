#include "chatd/push/push_worker.hpp"

#include <pthread.h>

#include <spdlog/spdlog.h>

#include "chatd/push/schedule.hpp"
#include "chatd/store/connection.hpp"
#include "chatd/store/push_store.hpp"
#include "chatd/store/transaction.hpp"

namespace chatd::push {

// A worker thread's database connection.
class Session {
 public:
  explicit Session(const std::string& url) : conn(url) {}
  store::Connection conn;
};

PushWorker::PushWorker(std::string database_url, Gateway& gateway, Metrics& metrics,
                       Options options)
    : url_(std::move(database_url)),
      gateway_(gateway),
      metrics_(metrics),
      opt_(options),
      delivered_(metrics.counter("chatd_push_delivered_total",
                                 "Push jobs the webhook accepted (2xx).")),
      failed_(metrics.counter("chatd_push_failed_total",
                              "Push jobs dropped after failing for --push-give-up.")),
      skipped_(metrics.counter("chatd_push_skipped_total",
                               "Push jobs skipped when due: online, read, muted, left or deleted.")),
      retries_(metrics.counter("chatd_push_retries_total",
                               "Webhook POSTs that failed (non-2xx or no answer) and were rescheduled.")) {
  metrics.gauge("chatd_push_jobs_pending", "Push jobs in the outbox, every instance's (refreshed each second).",
                [this] { return static_cast<double>(pending_.load()); });
  metrics.histogram("chatd_push_latency_seconds",
                    "Time from a message's commit to the webhook's 2xx for its push job.",
                    {0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 3600});
}

PushWorker::~PushWorker() { stop(); }

void PushWorker::start() {
  for (int i = 0; i < std::max(1, opt_.threads); ++i) {
    threads_.emplace_back([this, i] { run(i); });
    pthread_setname_np(threads_.back().native_handle(), "push");
  }
}

void PushWorker::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
}

void PushWorker::run(int index) {
  Session s(url_);
  auto last_count = std::chrono::steady_clock::time_point{};
  int failures = 0;
  for (;;) {
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
    }
    std::chrono::milliseconds wait{0};
    try {
      // The first thread refreshes the outbox gauge once a second.
      auto now = std::chrono::steady_clock::now();
      if (index == 0 && now - last_count >= std::chrono::seconds(1)) {
        last_count = now;
        pending_ = store::transact(
            s.conn, [](store::Transaction& tx) { return store::PushStore(tx).pending(); },
            store::TxMode::one_statement);
      }
      if (!step(s)) wait = opt_.idle_poll;
      if (failures > 0) spdlog::info("push: database reachable again");
      failures = 0;
    } catch (const std::exception& e) {
      if (failures++ == 0) spdlog::warn("push: {}; retrying", e.what());
      wait = std::chrono::milliseconds(std::min(5000, 100 << std::min(failures, 6)));
    }
    if (wait.count() > 0) {
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, wait, [this] { return stopping_; });
    }
  }
}

bool PushWorker::step(Session& s) {
  return store::transact(s.conn, [&](store::Transaction& tx) {
    store::PushStore outbox(tx);
    auto jobs = outbox.claim_next(opt_.coalesce, opt_.online_expiry);
    if (jobs.empty()) return false;
    std::vector<Job> send;
    std::vector<std::int64_t> skip;
    for (auto& j : jobs) {
      if (j.skip) {
        skip.push_back(j.id);
      } else {
        send.push_back(std::move(j));
      }
    }
    outbox.remove(skip);
    skipped_ += skip.size();
    if (send.empty()) return true;

    auto body = payload(send, outbox.unread_total(send.front().user));
    auto posted = std::chrono::steady_clock::now();
    int status = gateway_.post(body, idempotency_key(send));
    if (status >= 200 && status < 300) {
      double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - posted).count();
      std::vector<std::int64_t> done;
      for (const auto& j : send) {
        done.push_back(j.id);
        metrics_.observe("chatd_push_latency_seconds", j.age_seconds + took);
      }
      outbox.remove(done);
      delivered_ += done.size();
      return true;
    }
    ++retries_;
    auto next = after_failure(send, opt_.give_up);
    outbox.remove(next.failed);
    outbox.retry(next.retry, next.retry_after_seconds);
    failed_ += next.failed.size();
    if (!next.failed.empty()) {
      spdlog::warn("push: dropped {} job(s) of user {} after {} s of failures", next.failed.size(),
                   send.front().user, opt_.give_up.count());
    }
    spdlog::debug("push: webhook answered {} for user {}; retrying", status, send.front().user);
    return true;
  });
}

}  // namespace chatd::push
