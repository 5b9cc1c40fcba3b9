#include "chatd/realtime/presence.hpp"

#include <pthread.h>

#include <spdlog/spdlog.h>

#include "chatd/realtime/notice.hpp"
#include "chatd/store/connection.hpp"
#include "chatd/store/notify_channel.hpp"
#include "chatd/store/transaction.hpp"

namespace chatd::realtime {

using model::UserId;
using store::PresenceChange;

// ------------------------------------------------------------- backend

StorePresenceBackend::StorePresenceBackend(std::string database_url, std::string channel,
                                           std::chrono::seconds expiry)
    : db_(std::make_unique<store::Connection>(std::move(database_url))),
      channel_(std::move(channel)),
      expiry_(expiry) {}

StorePresenceBackend::~StorePresenceBackend() = default;

namespace {
// Runs op in one transaction and announces what it returns in the same commit.
template <class Op>
std::vector<PresenceChange> changing(store::Connection& db, const std::string& channel,
                                     std::chrono::seconds expiry, Op op) {
  return store::transact(db, [&](store::Transaction& tx) {
    store::PresenceStore presence(tx, expiry);
    auto changes = op(presence);
    std::vector<std::string> notices;
    for (const auto& c : changes) notices.push_back(encode(Notice::presence(c.user, c.online)));
    for (const auto& payload : store::NotifyChannel::pack(notices)) {
      presence.notify(channel, payload);
    }
    return changes;
  });
}
}  // namespace

store::InstanceId StorePresenceBackend::register_instance() {
  return store::transact(*db_, [&](store::Transaction& tx) {
    return store::PresenceStore(tx, expiry_).register_instance();
  });
}

bool StorePresenceBackend::heartbeat(store::InstanceId self) {
  return store::transact(
      *db_, [&](store::Transaction& tx) { return store::PresenceStore(tx, expiry_).heartbeat(self); });
}

std::vector<PresenceChange> StorePresenceBackend::apply(
    store::InstanceId self, const std::vector<std::pair<UserId, bool>>& changes) {
  return changing(*db_, channel_, expiry_,
                  [&](store::PresenceStore& p) { return p.apply(self, changes); });
}

std::vector<PresenceChange> StorePresenceBackend::reap(store::InstanceId self) {
  return changing(*db_, channel_, expiry_, [&](store::PresenceStore& p) { return p.reap(self); });
}

std::vector<PresenceChange> StorePresenceBackend::unregister(store::InstanceId self) {
  return changing(*db_, channel_, expiry_,
                  [&](store::PresenceStore& p) { return p.unregister(self); });
}

// ------------------------------------------------------------ presence

Presence::Presence(PresenceBackend& backend, std::function<bool(UserId)> connected_here,
                   std::function<std::vector<UserId>()> local_users, Options options)
    : backend_(backend),
      connected_here_(std::move(connected_here)),
      local_users_(std::move(local_users)),
      opt_(options) {}

Presence::~Presence() { stop(); }

void Presence::changed(UserId user) {
  {
    std::lock_guard lock(mu_);
    dirty_.insert(user);
  }
  cv_.notify_one();
}

std::size_t Presence::dirty() const {
  std::lock_guard lock(mu_);
  return dirty_.size();
}

void Presence::start() {
  thread_ = std::thread([this] { run(); });
  pthread_setname_np(thread_.native_handle(), "presence");
}

void Presence::stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (self_ == 0) return;
  try {
    backend_.unregister(self_);
  } catch (const std::exception& e) {
    // The others take this instance for dead after the expiry.
    spdlog::warn("presence: could not unregister: {}", e.what());
  }
  self_ = 0;
}

bool Presence::step() {
  try {
    if (self_ == 0) {
      self_ = backend_.register_instance();
      applied_.clear();
      // Everyone connected here must be written (again).
      std::lock_guard lock(mu_);
      for (UserId u : local_users_()) dirty_.insert(u);
    }
  } catch (const std::exception& e) {
    spdlog::warn("presence: cannot register this instance: {}", e.what());
    return false;
  }
  std::vector<UserId> batch;
  {
    std::lock_guard lock(mu_);
    for (auto it = dirty_.begin(); it != dirty_.end() && batch.size() < opt_.batch;) {
      batch.push_back(*it);
      it = dirty_.erase(it);
    }
  }
  std::vector<std::pair<UserId, bool>> changes;
  for (UserId u : batch) {
    bool want = connected_here_(u);
    if (want != (applied_.count(u) > 0)) changes.emplace_back(u, want);
  }
  if (changes.empty()) return true;
  try {
    backend_.apply(self_, changes);
  } catch (const std::exception& e) {
    spdlog::warn("presence: write failed, retrying: {}", e.what());
    std::lock_guard lock(mu_);
    for (UserId u : batch) dirty_.insert(u);
    return false;
  }
  for (const auto& [u, online] : changes) {
    if (online) {
      applied_.insert(u);
    } else {
      applied_.erase(u);
    }
  }
  return true;
}

void Presence::beat() {
  if (self_ == 0) return;
  try {
    if (!backend_.heartbeat(self_)) {
      spdlog::warn("presence: this instance was taken for dead; registering again");
      self_ = 0;
      return;
    }
    backend_.reap(self_);
  } catch (const std::exception& e) {
    spdlog::warn("presence: heartbeat failed: {}", e.what());
  }
}

void Presence::run() {
  for (;;) {
    bool ok = step();
    auto now = std::chrono::steady_clock::now();
    if (now >= next_beat_) {
      beat();
      next_beat_ = now + opt_.heartbeat;
    }
    std::unique_lock lock(mu_);
    if (stopping_) return;
    // After a failure, wait a little before trying the batch again.
    auto until = ok ? next_beat_ : std::min(next_beat_, now + std::chrono::milliseconds(500));
    cv_.wait_until(lock, until, [this, ok] { return stopping_ || (ok && !dirty_.empty()); });
    if (stopping_) return;
  }
}

}  // namespace chatd::realtime
