// Group commit for sends. Concurrent sends waiting on the store are collected
// into one transaction: every conversation of the batch is locked at once,
// every request is checked in one statement, and every accepted message is
// appended with its event in one statement, under one commit. Each sender is
// answered after that commit, never before.
//
// A batch is bounded by size (Options::max_batch) and by a short wait for it
// to fill (Options::wait), taken only while another batch is committing: a
// lone send never waits. At most Options::max_in_flight batches run at once,
// so the rest of the pool stays free for reads. The queue is bounded: beyond
// Options::max_pending a send fails with Overloaded (503).
//
// The rules are exactly those of a single send: membership is read after the
// lock, a repeated client_msg_id returns the stored message (also when the
// repeat is in the same batch), seqs continue each conversation's last_seq
// without a gap in arrival order. If a batch fails as a whole, each of its
// sends is re-run alone, so one bad send cannot fail the others.
//
// Order: sends are taken in the order submit() was called, and a conversation
// is in at most one batch in flight at a time (a drainer passes over sends of
// a conversation that another batch holds). So the sends of one conversation
// commit in submission order even with several batches in flight, and two
// batches never wait on each other's conversation lock.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_set>

#include "chatd/core/async.hpp"
#include "chatd/core/expected.hpp"
#include "chatd/domain/event_publisher.hpp"
#include "chatd/store/message_store.hpp"

namespace chatd::store {
class Connection;
class DbPool;
}  // namespace chatd::store

namespace chatd::domain {

struct SentMessage {
  model::Message message;
  bool created = false;  // false: a retry of a stored message
};

class SendBatcher {
 public:
  struct Options {
    std::size_t max_batch = 64;       // 1: one message per transaction
    std::chrono::microseconds wait{500};  // only while another batch commits
    std::size_t max_in_flight = 2;    // batches running at once
    std::size_t max_pending = 4096;   // sends waiting for a batch
    // Counters to bump after each commit (optional): messages stored, batches.
    std::atomic<std::uint64_t>* stored = nullptr;
    std::atomic<std::uint64_t>* commits = nullptr;
    // Set (--push-webhook): each message writes its push jobs, due after this.
    std::optional<std::chrono::milliseconds> push_delay;
  };

  SendBatcher(store::DbPool& db, EventPublisher& publisher, Options options);
  ~SendBatcher();
  SendBatcher(const SendBatcher&) = delete;
  SendBatcher& operator=(const SendBatcher&) = delete;

  using Result = Expected<SentMessage>;
  // Called once, on a database worker (or at once when refused), with the
  // exception that failed the send or its result.
  using Done = Completion<Result>;

  // Validated input only (see MessageService::send). Resolves once the
  // transaction holding the send has committed, or with its error.
  Task<Result> send(store::SendRequest request);
  // The same, for callers that must fix the order of several sends: the send
  // is queued before submit returns (see "Order" above).
  void submit(store::SendRequest request, Done done);

 private:
  struct Pending;
  using Batch = std::vector<std::unique_ptr<Pending>>;

  void enqueue(std::unique_ptr<Pending> p);
  void start_drainer();
  void drain(store::Connection& c);
  // Runs the batch in one transaction and answers each sender.
  void run(store::Connection& c, Batch& batch);

  store::DbPool& db_;
  EventPublisher& publisher_;
  Options opt_;
  std::mutex mu_;
  std::condition_variable cv_;    // a waiting drainer: more sends queued
  std::condition_variable idle_;  // in_flight_ reached zero
  std::deque<std::unique_ptr<Pending>> queue_;
  std::unordered_set<model::ConversationId> busy_;  // in a batch being run
  std::size_t in_flight_ = 0;
};

}  // namespace chatd::domain
