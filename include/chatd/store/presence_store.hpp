// Presence shared by every instance (migrations/0004_presence.sql). Each
// call runs in the caller's transaction and takes a per-user lock before it
// reads, so changes to one user serialise across instances. The caller
// announces the changes with notify() in the same transaction: then one
// user's announcements reach every listener in the order they committed,
// whichever instances made them. (Presence commits are rare and batched; the
// message path never NOTIFYs.)
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "chatd/model/user.hpp"

namespace chatd::store {

class Transaction;

using InstanceId = std::int64_t;

// A user whose status across all instances changed, as announced.
struct PresenceChange {
  model::UserId user = 0;
  bool online = false;
};

class PresenceStore {
 public:
  // `expiry`: how long an instance may stay silent before its sockets stop counting.
  PresenceStore(Transaction& tx, std::chrono::seconds expiry) : tx_(tx), expiry_(expiry) {}

  InstanceId register_instance();
  // False when the row is gone (another instance took this one for dead).
  bool heartbeat(InstanceId self);
  // This instance now holds (true) or no longer holds (false) sockets of each
  // user. Returns the users whose status changed overall.
  std::vector<PresenceChange> apply(InstanceId self,
                                    const std::vector<std::pair<model::UserId, bool>>& changes);
  // Removes instances silent past the expiry (not `self`) and their rows;
  // returns the users that are now offline everywhere.
  std::vector<PresenceChange> reap(InstanceId self);
  // This instance stops: its rows go, as at a reap.
  std::vector<PresenceChange> unregister(InstanceId self);
  // NOTIFY, delivered when (and only if) this transaction commits.
  void notify(const std::string& channel, const std::string& payload);

 private:
  // Locks the users (ascending) and returns those with no socket on a live
  // instance other than `except`.
  std::vector<model::UserId> offline_elsewhere(const std::vector<model::UserId>& users,
                                               InstanceId except);

  Transaction& tx_;
  std::chrono::seconds expiry_;
};

}  // namespace chatd::store
