// The push outbox (migrations/0007_requests_and_push.sql). Jobs are written
// by MessageStore::append_all in the message's transaction; the worker claims
// them here. Claimed rows stay locked (FOR UPDATE SKIP LOCKED) until the
// worker's transaction ends, so another worker, on this instance or another,
// passes over them.
#pragma once

#include <chrono>
#include <cstdint>
#include <vector>

#include "chatd/model/push.hpp"

namespace chatd::store {

class Transaction;

class PushStore {
 public:
  explicit PushStore(Transaction& tx) : tx_(tx) {}

  // The jobs of the user whose job fell due first (and whom no other worker
  // holds: a per-user advisory lock until this transaction ends), with the
  // user's other jobs due within `window` and never tried (a due retry: the
  // jobs of its failed POST, nothing else), ascending id; empty when nothing
  // is due or every due user is held. Each
  // says whether to skip it: the user is online on an instance seen within
  // `online_expiry`, has read past it, left, muted, has not accepted, or the
  // message was deleted.
  std::vector<model::PushJob> claim_next(std::chrono::milliseconds window,
                                         std::chrono::seconds online_expiry);
  // Unread messages over the user's inbox conversations (the badge).
  std::int64_t unread_total(model::UserId user);
  void remove(const std::vector<std::int64_t>& ids);
  // Each job is due again after its delay, one more attempt counted.
  void retry(const std::vector<std::int64_t>& ids, const std::vector<std::int64_t>& after_seconds);
  std::int64_t pending();

 private:
  Transaction& tx_;
};

}  // namespace chatd::store
