#include "chatd/store/session_store.hpp"

#include "pg.hpp"
#include "rows.hpp"

namespace chatd::store {

namespace {

constexpr Statement kSessionInsert{"sessions_insert",
                            "INSERT INTO sessions (user_id, token_hash) VALUES ($1, $2)"};

constexpr Statement kUserFor{
    "sessions_user_for",
    "SELECT u.id, u.username, u.display_name, " CHATD_SQL_MS("u.created_at")
    " FROM sessions s JOIN users u ON u.id = s.user_id"
    " WHERE s.token_hash = $1 AND s.revoked_at IS NULL"};

constexpr Statement kRevoke{
    "sessions_revoke",
    "UPDATE sessions SET revoked_at = now() WHERE token_hash = $1 AND revoked_at IS NULL"};

}  // namespace

void SessionStore::insert(model::UserId user, const std::string& token_hash) {
  tx_of(tx_).exec(kSessionInsert, user, token_hash);
}

std::optional<model::User> SessionStore::user_for(const std::string& token_hash) {
  auto r = tx_of(tx_).exec(kUserFor, token_hash);
  if (r.empty()) return std::nullopt;
  return user_from(r[0]);
}

bool SessionStore::revoke(const std::string& token_hash) {
  return tx_of(tx_).exec(kRevoke, token_hash).affected_rows() > 0;
}

}  // namespace chatd::store
