#include "chatd/store/user_store.hpp"

#include "pg.hpp"
#include "rows.hpp"

namespace chatd::store {

namespace {

#define USER_COLUMNS "id, username, display_name, " CHATD_SQL_MS("created_at")

constexpr Statement kInsert{"users_insert", R"sql(
INSERT INTO users (username, display_name, password_hash) VALUES ($1, $2, $3)
ON CONFLICT (username) DO NOTHING
RETURNING )sql" USER_COLUMNS};

constexpr Statement kFind{"users_find", "SELECT " USER_COLUMNS " FROM users WHERE id = $1"};

constexpr Statement kCredentials{
    "users_credentials",
    "SELECT " USER_COLUMNS ", password_hash FROM users WHERE username = $1"};

// '{' sorts right after 'z', and usernames hold only [a-z0-9_.], so this range
// is exactly "starts with $1" and runs on the unique index (C collation).
constexpr Statement kSearch{"users_search_prefix",
                            "SELECT " USER_COLUMNS " FROM users "
                            "WHERE username >= $1 AND username < $1 || '{' "
                            "ORDER BY username LIMIT $2"};

}  // namespace

std::optional<model::User> UserStore::insert(const std::string& username,
                                             const std::string& display_name,
                                             const std::string& password_hash) {
  auto r = tx_of(tx_).exec(kInsert, username, display_name, password_hash);
  if (r.empty()) return std::nullopt;
  return user_from(r[0]);
}

std::optional<model::User> UserStore::find(model::UserId id) {
  auto r = tx_of(tx_).exec(kFind, id);
  if (r.empty()) return std::nullopt;
  return user_from(r[0]);
}

std::optional<model::Credentials> UserStore::credentials(const std::string& username) {
  auto r = tx_of(tx_).exec(kCredentials, username);
  if (r.empty()) return std::nullopt;
  return model::Credentials{user_from(r[0]), r[0][4].as<std::string>()};
}

std::vector<model::User> UserStore::search_prefix(const std::string& prefix, int limit) {
  std::vector<model::User> out;
  for (const auto& row : tx_of(tx_).exec(kSearch, prefix, limit)) out.push_back(user_from(row));
  return out;
}

}  // namespace chatd::store
