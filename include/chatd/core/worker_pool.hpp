// A fixed set of threads draining one bounded FIFO of jobs. Used for database
// work (one connection per thread) and for CPU-heavy work such as password
// hashing, so that IO threads never block.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace chatd {

class WorkerPool {
 public:
  // A job receives the index of the worker thread running it, so that per-thread
  // resources (a database connection) can be looked up without locking.
  using Job = std::function<void(std::size_t worker)>;

  WorkerPool(std::string name, std::size_t threads, std::size_t max_queue);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Queues a job; false when the queue is full or the pool is stopping.
  bool try_post(Job job);
  // Runs what is queued, then joins the threads. Further posts are refused.
  void stop();

  std::size_t size() const { return threads_.size(); }
  std::size_t busy() const { return busy_.load(std::memory_order_relaxed); }
  std::size_t queued() const;
  std::size_t max_queue() const { return max_queue_; }

 private:
  void run(std::size_t index);

  std::string name_;
  std::size_t max_queue_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> queue_;
  bool stopping_ = false;
  std::atomic<std::size_t> busy_{0};
  std::vector<std::thread> threads_;
};

}  // namespace chatd
