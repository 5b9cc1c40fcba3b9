// Fan-out: hands each committed event to the local connections of its
// conversation's members, once, in seq order per conversation.
//
// Work is bounded and coalesced. What waits is, per conversation, the
// highest seq announced (and, for events committed here, their content up to
// a byte budget); a burst of references to one conversation costs one read.
// Beyond Options::max_pending_conversations, or when the listener was away,
// fan-out stops trusting what it heard and asks every local connection to
// recheck its conversations against the log (Subscriber::recheck): overload
// degrades to catch-ups, never to unbounded memory. A read that fails puts
// only that conversation on a backoff; the others go on. Read, typing and
// presence signals wait in a bounded queue; beyond it they are dropped
// (counted): they are hints, not history. Presence reads only the audience
// connected here, for a run of consecutive presence notices at once, and
// then delivers one notice per turn, alternating with the conversations.
//
// A conversation none of whose members has a local connection is not read at
// all: its position just moves on (a connection that attaches later reads its
// start from the log after attaching, see ClientSession::start). Its member
// set is kept while the events passed over are known (committed here) to
// leave it as it was, and read again otherwise.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "chatd/realtime/log_reader.hpp"
#include "chatd/realtime/notice.hpp"
#include "chatd/realtime/session_index.hpp"

namespace chatd::realtime {

class FanOut {
 public:
  struct Options {
    std::size_t max_pending_conversations = 100'000;
    std::size_t max_content_bytes = 16u << 20;  // event content held for local delivery
    std::size_t max_signals = 10'000;           // read, typing, presence
    std::size_t presence_batch = 64;            // presence notices sharing one read
    std::size_t max_cached_conversations = 100'000;
    int page = 500;
    std::chrono::milliseconds max_backoff{5000};
  };
  struct Counters {
    std::atomic<std::uint64_t>* delivered = nullptr;  // (event, connection) hand-offs
    std::atomic<std::uint64_t>* dropped = nullptr;    // notices dropped by a bound
    std::atomic<std::uint64_t>* errors = nullptr;     // failed reads
  };

  FanOut(LogReader& reader, const SessionIndex& sessions, Options options, Counters counters);
  FanOut(LogReader& reader, const SessionIndex& sessions)
      : FanOut(reader, sessions, Options{}, Counters{}) {}

  // Any thread; these never wait for the database.
  void announce(model::ConversationId id, model::Seq from, model::Seq to);
  // Events committed by this instance, of one conversation, ascending.
  void committed_here(std::vector<model::Event> events);
  void signal(Notice notice);  // read, typing or presence
  // Notices may have been lost: every connection rechecks against the log.
  void reset();
  std::size_t pending() const;

  // The fan-out thread: runs work until stop().
  void run();
  void stop();
  // One unit of due work; false when there was none (for run() and tests).
  bool step();

 private:
  struct Pending {
    model::Seq from = 0;
    model::Seq to = 0;
    std::vector<model::Event> content;  // ascending, contiguous; may be empty
    std::size_t bytes = 0;
    int failures = 0;
  };
  struct State {
    model::Seq fanned = -1;  // last seq handed to local connections
    std::optional<std::unordered_set<model::UserId>> members;
    bool kept = false;  // members kept over a pass that told nobody here
  };
  using Clock = std::chrono::steady_clock;

  // Under mu_: adds to (or merges into) the pending work of a conversation.
  void merge_locked(model::ConversationId id, Pending p);
  void fan_out(model::ConversationId id, Pending& p);
  void handle(const Notice& n);  // read, typing, standing, visibility
  // Consecutive presence notices: one read of their audiences here, queued
  // in heard_; deliver_heard() sends the first, one notice per signal turn,
  // so that a burst of presence does not hold back the conversations' events.
  void hear_presence(const std::vector<Notice>& batch);
  void deliver_heard();
  State& state_for(model::ConversationId id, model::Seq from);
  std::unordered_set<model::UserId>& members(model::ConversationId id, State& st);
  bool any_local(const std::unordered_set<model::UserId>& users) const;
  void deliver(model::ConversationId id, const model::Event& e, State& st);
  void send_to(const std::unordered_set<model::UserId>& users, model::UserId except,
               const Frame& frame);
  void bump(std::atomic<std::uint64_t>* c, std::uint64_t n = 1) {
    if (c) c->fetch_add(n, std::memory_order_relaxed);
  }

  LogReader& reader_;
  const SessionIndex& sessions_;
  Options opt_;
  Counters counters_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  // A conversation is in pending_ exactly while it is in ready_ or retry_.
  std::unordered_map<model::ConversationId, Pending> pending_;
  std::deque<model::ConversationId> ready_;
  std::multimap<Clock::time_point, model::ConversationId> retry_;
  std::deque<Notice> signals_;
  std::size_t content_bytes_ = 0;
  bool recheck_ = false;
  bool stopping_ = false;
  bool signal_turn_ = false;

  // Fan-out thread only.
  std::unordered_map<model::ConversationId, State> states_;
  // Presence notices whose audience here was read, in the order announced;
  // at most presence_batch.
  std::deque<std::pair<Notice, std::vector<model::UserId>>> heard_;
  // For pending() on other threads: the presence notices taken from
  // signals_ and not yet delivered (a batch's size while its audiences are
  // read, then heard_.size()). Written by the fan-out thread only.
  std::atomic<std::size_t> heard_waiting_{0};
};

}  // namespace chatd::realtime
