#include "chatd/store/login_attempt_store.hpp"

#include "pg.hpp"

namespace chatd::store {

namespace {

// $2: the window in milliseconds.
constexpr Statement kAttempt{"login_attempt", R"sql(
INSERT INTO login_attempts AS a (username, window_start, attempts) VALUES ($1, now(), 1)
ON CONFLICT (username) DO UPDATE SET
  attempts = CASE WHEN a.window_start <= now() - make_interval(secs => $2::bigint / 1000.0)
                  THEN 1 ELSE a.attempts + 1 END,
  window_start = CASE WHEN a.window_start <= now() - make_interval(secs => $2::bigint / 1000.0)
                      THEN now() ELSE a.window_start END
RETURNING attempts,
  greatest(0, ceil(extract(epoch FROM (window_start + make_interval(secs => $2::bigint / 1000.0) - now())) * 1000))::bigint)sql"};

constexpr Statement kSweep{"login_attempt_sweep", R"sql(
DELETE FROM login_attempts WHERE username IN (
  SELECT username FROM login_attempts
  WHERE window_start < now() - make_interval(secs => $1::bigint / 1000.0)
  ORDER BY window_start LIMIT 100 FOR UPDATE SKIP LOCKED))sql"};

constexpr Statement kClear{"login_attempt_clear", "DELETE FROM login_attempts WHERE username = $1"};

}  // namespace

LoginWindow LoginAttemptStore::attempt(const std::string& username, std::chrono::milliseconds window) {
  auto& tx = tx_of(tx_);
  tx.exec(kSweep, static_cast<std::int64_t>(window.count()));
  auto r = tx.exec(kAttempt, username, static_cast<std::int64_t>(window.count()));
  return {r[0][0].as<std::int64_t>(), std::chrono::milliseconds(r[0][1].as<std::int64_t>())};
}

void LoginAttemptStore::clear(const std::string& username) { tx_of(tx_).exec(kClear, username); }

}  // namespace chatd::store
