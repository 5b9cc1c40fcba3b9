// Presence across instances. A user is online while any instance holds a
// socket of theirs; the shared state is in PostgreSQL (a row per user and
// instance, and a heartbeat per instance), reached through PresenceBackend.
//
// Locally, the truth is the session index: `connected_here(user)`. Presence
// keeps only what it has written to the shared table (`applied_`) and a set of
// users to look at again (`dirty_`). Every first or last local session of a
// user marks them dirty (set); the presence thread compares, writes the
// difference in one batch, and clears them. A quick close and reopen may
// coalesce into no write at all, which is the right answer. The backend
// announces only changes across all instances, in the commit that makes them.
//
// Every heartbeat the instance refreshes its row and removes instances silent
// past the expiry, announcing their users offline where no other instance
// holds them. An instance found removed (it was silent too long) registers
// again and rewrites every local user. stop() removes this instance's rows.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <string>
#include <mutex>
#include <thread>
#include <unordered_set>
#include <utility>
#include <vector>

#include "chatd/store/presence_store.hpp"

namespace chatd::store {
class Connection;
}

namespace chatd::realtime {

class PresenceBackend {
 public:
  virtual ~PresenceBackend() = default;
  virtual store::InstanceId register_instance() = 0;
  virtual bool heartbeat(store::InstanceId self) = 0;
  // Each of these announces the changes it returns, in the same commit.
  virtual std::vector<store::PresenceChange> apply(
      store::InstanceId self, const std::vector<std::pair<model::UserId, bool>>& changes) = 0;
  virtual std::vector<store::PresenceChange> reap(store::InstanceId self) = 0;
  virtual std::vector<store::PresenceChange> unregister(store::InstanceId self) = 0;
};

// On PostgreSQL, with its own connection: presence writes are few, batched,
// and must not wait behind request traffic in the pool.
class StorePresenceBackend final : public PresenceBackend {
 public:
  StorePresenceBackend(std::string database_url, std::string channel,
                       std::chrono::seconds expiry);
  ~StorePresenceBackend() override;
  store::InstanceId register_instance() override;
  bool heartbeat(store::InstanceId self) override;
  std::vector<store::PresenceChange> apply(
      store::InstanceId self, const std::vector<std::pair<model::UserId, bool>>& changes) override;
  std::vector<store::PresenceChange> reap(store::InstanceId self) override;
  std::vector<store::PresenceChange> unregister(store::InstanceId self) override;

 private:
  std::unique_ptr<store::Connection> db_;
  std::string channel_;
  std::chrono::seconds expiry_;
};

class Presence {
 public:
  struct Options {
    std::chrono::milliseconds heartbeat{3000};
    std::size_t batch = 500;  // users written in one transaction
  };

  Presence(PresenceBackend& backend, std::function<bool(model::UserId)> connected_here,
           std::function<std::vector<model::UserId>()> local_users, Options options);
  ~Presence();

  // Any thread: the user's first local session opened or last one closed.
  void changed(model::UserId user);
  void start();
  void stop();  // removes this instance's rows (best effort)

  // The presence thread's work, for tests: register if needed and write one
  // batch of changes. False when the backend failed.
  bool step();
  std::size_t dirty() const;

 private:
  void run();
  void beat();

  PresenceBackend& backend_;
  std::function<bool(model::UserId)> connected_here_;
  std::function<std::vector<model::UserId>()> local_users_;
  Options opt_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::unordered_set<model::UserId> dirty_;
  bool stopping_ = false;
  std::thread thread_;

  // Presence thread only (or the test calling step()).
  store::InstanceId self_ = 0;
  std::unordered_set<model::UserId> applied_;
  std::chrono::steady_clock::time_point next_beat_{};
};

}  // namespace chatd::realtime
