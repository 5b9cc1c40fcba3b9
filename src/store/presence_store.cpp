#include "chatd/store/presence_store.hpp"

#include <algorithm>
#include <unordered_set>

#include "pg.hpp"

namespace chatd::store {

namespace {

constexpr Statement kRegister{"presence_register",
                              "INSERT INTO chatd_instances DEFAULT VALUES RETURNING id"};

constexpr Statement kHeartbeat{"presence_heartbeat",
                               "UPDATE chatd_instances SET seen_at = now() WHERE id = $1"};

// Ascending, so that two instances locking overlapping sets cannot deadlock.
constexpr Statement kLockUsers{"presence_lock_users", R"sql(
SELECT pg_advisory_xact_lock(1885697637, (u % 2147483647)::int)
FROM (SELECT DISTINCT u FROM unnest($1::bigint[]) AS u ORDER BY u) s)sql"};

constexpr Statement kOfflineElsewhere{"presence_offline_elsewhere", R"sql(
SELECT u FROM unnest($1::bigint[]) AS u
WHERE NOT EXISTS (
  SELECT 1 FROM presence p JOIN chatd_instances i ON i.id = p.instance_id
  WHERE p.user_id = u AND p.instance_id <> $2
    AND i.seen_at > now() - make_interval(secs => $3)))sql"};

constexpr Statement kPresenceInsert{"presence_insert", R"sql(
INSERT INTO presence (user_id, instance_id)
SELECT u, $2 FROM unnest($1::bigint[]) AS u ON CONFLICT DO NOTHING)sql"};

constexpr Statement kPresenceDelete{"presence_delete",
                            "DELETE FROM presence WHERE instance_id = $2 AND user_id = ANY($1::bigint[])"};

constexpr Statement kReap{"presence_reap", R"sql(
WITH dead AS (
  SELECT id FROM chatd_instances
  WHERE id <> $1 AND seen_at < now() - make_interval(secs => $2)
  FOR UPDATE SKIP LOCKED),
gone AS (DELETE FROM presence WHERE instance_id IN (SELECT id FROM dead) RETURNING user_id),
removed AS (DELETE FROM chatd_instances WHERE id IN (SELECT id FROM dead))
SELECT DISTINCT user_id FROM gone)sql"};

constexpr Statement kUnregister{"presence_unregister", R"sql(
WITH gone AS (DELETE FROM presence WHERE instance_id = $1 RETURNING user_id),
removed AS (DELETE FROM chatd_instances WHERE id = $1)
SELECT DISTINCT user_id FROM gone)sql"};

std::vector<model::UserId> ids_of(const pqxx::result& r) {
  std::vector<model::UserId> out;
  out.reserve(r.size());
  for (const auto& row : r) out.push_back(row[0].as<std::int64_t>());
  return out;
}

}  // namespace

InstanceId PresenceStore::register_instance() {
  return tx_of(tx_).exec(kRegister)[0][0].as<std::int64_t>();
}

bool PresenceStore::heartbeat(InstanceId self) {
  return tx_of(tx_).exec(kHeartbeat, self).affected_rows() > 0;
}

std::vector<model::UserId> PresenceStore::offline_elsewhere(const std::vector<model::UserId>& users,
                                                            InstanceId except) {
  auto arr = int_array(users);
  tx_of(tx_).exec(kLockUsers, arr);
  return ids_of(tx_of(tx_).exec(kOfflineElsewhere, arr, except,
                                static_cast<double>(expiry_.count())));
}

std::vector<PresenceChange> PresenceStore::apply(
    InstanceId self, const std::vector<std::pair<model::UserId, bool>>& changes) {
  std::vector<model::UserId> all, on, off;
  for (const auto& [user, online] : changes) {
    all.push_back(user);
    (online ? on : off).push_back(user);
  }
  if (all.empty()) return {};
  auto alone = offline_elsewhere(all, self);
  std::unordered_set<model::UserId> nowhere_else(alone.begin(), alone.end());
  if (!on.empty()) tx_of(tx_).exec(kPresenceInsert, int_array(on), self);
  if (!off.empty()) tx_of(tx_).exec(kPresenceDelete, int_array(off), self);
  // Only where no other live instance holds the user does the status change.
  std::vector<PresenceChange> out;
  for (const auto& [user, online] : changes) {
    if (nowhere_else.count(user)) out.push_back({user, online});
  }
  return out;
}

std::vector<PresenceChange> PresenceStore::reap(InstanceId self) {
  auto users = ids_of(tx_of(tx_).exec(kReap, self, static_cast<double>(expiry_.count())));
  if (users.empty()) return {};
  std::vector<PresenceChange> out;
  // 0 is no instance: every live row counts, this instance's too.
  for (auto u : offline_elsewhere(users, 0)) out.push_back({u, false});
  return out;
}

std::vector<PresenceChange> PresenceStore::unregister(InstanceId self) {
  auto users = ids_of(tx_of(tx_).exec(kUnregister, self));
  if (users.empty()) return {};
  std::vector<PresenceChange> out;
  for (auto u : offline_elsewhere(users, self)) out.push_back({u, false});
  return out;
}

void PresenceStore::notify(const std::string& channel, const std::string& payload) {
  tx_of(tx_).work().exec_params("SELECT pg_notify($1, $2)", channel, payload);
}

}  // namespace chatd::store
