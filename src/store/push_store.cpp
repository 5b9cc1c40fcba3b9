#include "chatd/store/push_store.hpp"

#include "pg.hpp"

namespace chatd::store {

namespace {

// Users with due jobs, the longest waiting first.
constexpr Statement kDueUsers{"push_due_users", R"sql(
SELECT user_id FROM (SELECT user_id, due_at FROM push_jobs WHERE due_at <= now()
                     ORDER BY due_at LIMIT 256) d
GROUP BY user_id ORDER BY min(due_at) LIMIT 16)sql"};

// One worker per user at a time, on every instance: without it two workers
// could each claim part of one user's jobs and send two notifications. (The
// key space is apart from presence's per-user locks.)
constexpr Statement kLockUser{"push_lock_user",
                              "SELECT pg_try_advisory_xact_lock(1886745448, ($1::bigint % 2147483647)::int)"};

// A retry goes as the batch it was: the jobs of one failed POST share one
// due_at (kRetry), so the oldest due retry is claimed with exactly its
// batch-mates and the POST keeps its Idempotency-Key. Without a retry due,
// the user's fresh jobs due now or within the window $2 go together. A job
// waiting out a backoff is never pulled in early (another worker may have
// just rescheduled it, after this one listed the user).
constexpr Statement kClaimUser{"push_claim_user", R"sql(
WITH retry AS (
  SELECT min(due_at) AS at FROM push_jobs
  WHERE user_id = $1::bigint AND attempts > 0 AND due_at <= now()),
j AS (
  SELECT * FROM push_jobs
  WHERE user_id = $1::bigint
    AND CASE WHEN (SELECT at FROM retry) IS NOT NULL
             THEN attempts > 0 AND due_at = (SELECT at FROM retry)
             ELSE attempts = 0 AND due_at <= now() + make_interval(secs => $2::double precision) END
  ORDER BY id FOR UPDATE SKIP LOCKED)
SELECT j.id, j.user_id, j.conversation_id, j.seq, j.sender_id, coalesce(left(x.body, 100), ''),
       extract(epoch FROM now() - j.created_at)::double precision, j.attempts,
       x.seq IS NULL OR x.deleted OR m.user_id IS NULL OR m.read_seq >= j.seq
       OR m.state <> 'inbox' OR (m.muted AND (m.muted_until IS NULL OR m.muted_until > now()))
       OR EXISTS (SELECT 1 FROM presence p JOIN chatd_instances i ON i.id = p.instance_id
                  WHERE p.user_id = j.user_id
                    AND i.seen_at > now() - make_interval(secs => $3::double precision))
FROM j
LEFT JOIN messages x ON x.conversation_id = j.conversation_id AND x.seq = j.seq
LEFT JOIN members m ON m.conversation_id = j.conversation_id AND m.user_id = j.user_id
ORDER BY j.id)sql"};

constexpr Statement kUnreadTotal{"push_unread_total", R"sql(
SELECT coalesce(sum((SELECT count(*) FROM messages x
                     WHERE x.conversation_id = m.conversation_id AND x.seq > m.read_seq
                       AND x.sender_id <> m.user_id AND NOT x.deleted)), 0)::bigint
FROM members m WHERE m.user_id = $1 AND m.state = 'inbox')sql"};

constexpr Statement kRemove{"push_remove", "DELETE FROM push_jobs WHERE id = ANY($1::bigint[])"};

// From the failure, not from the transaction's start (now()): the POST in
// between may have taken up to its timeout.
constexpr Statement kRetry{"push_retry", R"sql(
UPDATE push_jobs j SET attempts = j.attempts + 1,
                       due_at = (SELECT clock_timestamp()) + make_interval(secs => r.after)
FROM unnest($1::bigint[], $2::double precision[]) AS r(id, after)
WHERE j.id = r.id)sql"};

constexpr Statement kPending{"push_pending", "SELECT count(*) FROM push_jobs"};

}  // namespace

std::vector<model::PushJob> PushStore::claim_next(std::chrono::milliseconds window,
                                                  std::chrono::seconds online_expiry) {
  auto& tx = tx_of(tx_);
  std::optional<model::UserId> user;
  for (const auto& row : tx.exec(kDueUsers)) {
    auto candidate = row[0].as<std::int64_t>();
    if (tx.exec(kLockUser, candidate)[0][0].as<bool>()) {
      user = candidate;
      break;
    }
  }
  if (!user) return {};  // nothing due, or every due user is being sent by another worker
  std::vector<model::PushJob> out;
  for (const auto& r : tx.exec(kClaimUser, *user,
                               static_cast<double>(window.count()) / 1000.0,
                               static_cast<double>(online_expiry.count()))) {
    model::PushJob j;
    j.id = r[0].as<std::int64_t>();
    j.user = r[1].as<std::int64_t>();
    j.conversation = r[2].as<std::int64_t>();
    j.seq = r[3].as<std::int64_t>();
    j.sender = r[4].as<std::int64_t>();
    j.preview = r[5].as<std::string>();
    j.age_seconds = r[6].as<double>();
    j.attempts = r[7].as<int>();
    j.skip = r[8].as<bool>();
    out.push_back(std::move(j));
  }
  return out;
}

std::int64_t PushStore::unread_total(model::UserId user) {
  return tx_of(tx_).exec(kUnreadTotal, user)[0][0].as<std::int64_t>();
}

void PushStore::remove(const std::vector<std::int64_t>& ids) {
  if (!ids.empty()) tx_of(tx_).exec(kRemove, int_array(ids));
}

void PushStore::retry(const std::vector<std::int64_t>& ids,
                      const std::vector<std::int64_t>& after_seconds) {
  if (!ids.empty()) tx_of(tx_).exec(kRetry, int_array(ids), int_array(after_seconds));
}

std::int64_t PushStore::pending() {
  return tx_of(tx_).exec(kPending)[0][0].as<std::int64_t>();
}

}  // namespace chatd::store
