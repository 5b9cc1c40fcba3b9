// The local connections of each user, for fan-out. Thread-safe.
//
// Invariant: a session is in the index from its attach() to its detach(), and
// the network layer detaches every session it attached when the socket ends
// (on every path). attach and detach report the user's first and last local
// session, which drive presence.
#pragma once

#include <functional>
#include <memory>
#include <shared_mutex>
#include <unordered_map>
#include <vector>

#include "chatd/realtime/subscriber.hpp"

namespace chatd::realtime {

class SessionIndex {
 public:
  // True when this is the user's first local session.
  bool attach(const std::shared_ptr<Subscriber>& s);
  // True when it was the user's last; false also when it was not attached.
  bool detach(const Subscriber* s);
  bool has(model::UserId user) const;
  std::vector<std::shared_ptr<Subscriber>> sessions_of(model::UserId user) const;
  std::vector<std::shared_ptr<Subscriber>> all() const;
  std::vector<model::UserId> users() const;
  std::size_t size() const;

 private:
  mutable std::shared_mutex mu_;
  std::unordered_map<model::UserId, std::vector<std::shared_ptr<Subscriber>>> by_user_;
  std::size_t count_ = 0;
};

}  // namespace chatd::realtime
