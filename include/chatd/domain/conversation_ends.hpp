// Where each conversation of a user stands (its id and last seq), read for
// many users at once: what every WebSocket reads when it starts, rechecks or
// syncs. In a reconnect storm thousands of sockets start within a second;
// one statement per socket made the database the largest part of a
// connect. Requests that arrive while a read runs wait for the next one,
// which takes them all (up to max_batch users) in one statement: a lone
// request goes at once, as a send does in the group commit.
//
// Bounded: at most max_queued requests wait (beyond that: Overloaded), at
// most max_in_flight reads run at once.
#pragma once

#include <cstddef>
#include <mutex>
#include <utility>
#include <vector>

#include "chatd/core/async.hpp"
#include "chatd/core/expected.hpp"
#include "chatd/model/conversation.hpp"

namespace chatd::store {
class DbPool;
class Connection;
}  // namespace chatd::store

namespace chatd::domain {

class ConversationEnds {
 public:
  using List = std::vector<std::pair<model::ConversationId, model::Seq>>;
  struct Options {
    std::size_t max_batch = 512;
    std::size_t max_queued = 20'000;
    std::size_t max_in_flight = 2;
  };

  explicit ConversationEnds(store::DbPool& db) : ConversationEnds(db, Options{}) {}
  ConversationEnds(store::DbPool& db, Options options) : db_(db), opt_(options) {}

  Task<Expected<List>> of(model::UserId user);

  // For tests and metrics: statements run, and users they answered.
  std::size_t reads() const;
  std::size_t users_read() const;
  // Requests waiting or being read now.
  std::size_t pending() const;

 private:
  struct Waiter {
    model::UserId user;
    Completion<Expected<List>> done;
  };
  void submit(model::UserId user, Completion<Expected<List>> done);
  void start_read();  // with in_flight_ already counted
  void read(store::Connection& c);

  store::DbPool& db_;
  const Options opt_;
  mutable std::mutex mu_;
  std::vector<Waiter> queue_;
  std::size_t in_flight_ = 0;
  std::size_t reading_ = 0;  // requests taken by a read under way
  std::size_t reads_ = 0;
  std::size_t users_read_ = 0;
};

}  // namespace chatd::domain
