#include "chatd/domain/conversation_ends.hpp"

#include <algorithm>
#include <unordered_map>

#include "chatd/core/failures.hpp"
#include "chatd/store/conversation_store.hpp"
#include "chatd/store/db_pool.hpp"
#include "chatd/store/transaction.hpp"

namespace chatd::domain {

Task<Expected<ConversationEnds::List>> ConversationEnds::of(model::UserId user) {
  auto start = [this, user](Completion<Expected<List>> done) { submit(user, std::move(done)); };
  co_return co_await when_done<Expected<List>>(std::move(start));
}

void ConversationEnds::submit(model::UserId user, Completion<Expected<List>> done) {
  {
    std::lock_guard lock(mu_);
    if (queue_.size() >= opt_.max_queued) {
      done(std::make_exception_ptr(Overloaded("too many sockets starting; retry shortly")),
           std::nullopt);
      return;
    }
    queue_.push_back({user, std::move(done)});
    if (in_flight_ >= opt_.max_in_flight) return;  // a running read starts the next
    ++in_flight_;
  }
  start_read();
}

void ConversationEnds::start_read() {
  auto job = [this](store::Connection& c) { read(c); };
  if (db_.post(job)) return;
  // The pool refused (full, or stopping): nobody would take what waits now.
  std::vector<Waiter> orphans;
  {
    std::lock_guard lock(mu_);
    --in_flight_;
    if (in_flight_ == 0) orphans.swap(queue_);
  }
  for (auto& w : orphans) {
    w.done(std::make_exception_ptr(Overloaded("database queue full")), std::nullopt);
  }
}

void ConversationEnds::read(store::Connection& c) {
  for (;;) {
    std::vector<Waiter> batch;
    {
      std::lock_guard lock(mu_);
      if (queue_.empty()) {
        --in_flight_;
        return;
      }
      std::size_t n = std::min(queue_.size(), opt_.max_batch);
      batch.assign(std::make_move_iterator(queue_.begin()),
                   std::make_move_iterator(queue_.begin() + static_cast<std::ptrdiff_t>(n)));
      queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(n));
      reading_ += n;
    }
    std::vector<model::UserId> users;
    users.reserve(batch.size());
    for (const auto& w : batch) users.push_back(w.user);
    std::sort(users.begin(), users.end());
    users.erase(std::unique(users.begin(), users.end()), users.end());

    std::unordered_map<model::UserId, List> ends;
    std::exception_ptr failure;
    try {
      ends = store::transact(
          c,
          [&](store::Transaction& tx) { return store::ConversationStore(tx).conversations_of(users); },
          store::TxMode::one_statement);
    } catch (...) {
      failure = std::current_exception();
    }
    {
      std::lock_guard lock(mu_);
      ++reads_;
      users_read_ += users.size();
      reading_ -= batch.size();
    }
    for (auto& w : batch) {
      if (failure) {
        w.done(failure, std::nullopt);
        continue;
      }
      auto it = ends.find(w.user);
      w.done(nullptr, Expected<List>(it == ends.end() ? List{} : it->second));
    }
  }
}

std::size_t ConversationEnds::reads() const {
  std::lock_guard lock(mu_);
  return reads_;
}

std::size_t ConversationEnds::pending() const {
  std::lock_guard lock(mu_);
  return queue_.size() + reading_;
}

std::size_t ConversationEnds::users_read() const {
  std::lock_guard lock(mu_);
  return users_read_;
}

}  // namespace chatd::domain
