// A bounded pool of database connections, each owned by one worker thread.
// Coroutines on IO threads `co_await pool.run<R>(fn)`; fn runs on a worker with
// that worker's Connection, and the coroutine resumes with its result. When the
// queue is full the awaiting coroutine gets chatd::Overloaded.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "chatd/core/async.hpp"
#include "chatd/store/connection.hpp"

namespace chatd::store {

class DbPool {
 public:
  DbPool(const std::string& url, std::size_t size, std::size_t max_queue);
  ~DbPool();

  // Fn: R(Connection&). Pass a named local, not an inline lambda (see run_on).
  template <class R, class F>
  Task<R> run(F&& fn) {
    auto bound = [this, fn = std::decay_t<F>(std::forward<F>(fn))](std::size_t worker) mutable {
      return fn(*connections_[worker]);
    };
    return run_on<R>(workers_, std::move(bound));
  }

  // Fire and forget: fn(Connection&) runs on a worker. False when the queue is
  // full (fn is then dropped without running).
  template <class F>
  bool post(F&& fn) {
    return workers_.try_post(
        [this, fn = std::decay_t<F>(std::forward<F>(fn))](std::size_t worker) mutable {
          fn(*connections_[worker]);
        });
  }

  std::size_t size() const { return workers_.size(); }
  std::size_t in_use() const { return workers_.busy(); }
  std::size_t waiting() const { return workers_.queued(); }

  // Every connection tells fn how long each transaction took.
  void observe_transactions(const std::function<void(double)>& fn) {
    for (auto& c : connections_) c->observe_transactions(fn);
  }

  // Finishes queued work and closes every connection.
  void stop();

 private:
  std::vector<std::unique_ptr<Connection>> connections_;
  WorkerPool workers_;  // after connections_: its threads use them
};

}  // namespace chatd::store
