#include "chatd/store/user_store.hpp"

#include "pg.hpp"
#include "rows.hpp"

namespace chatd::store {

namespace {

#define USER_COLUMNS "id, username, display_name, " CHATD_SQL_MS("created_at")

constexpr Statement kUserInsert{"users_insert", R"sql(
INSERT INTO users (username, display_name, password_hash, dm_policy) VALUES ($1, $2, $3, $4)
ON CONFLICT (username) DO NOTHING
RETURNING )sql" USER_COLUMNS};

constexpr Statement kUserFind{"users_find", "SELECT " USER_COLUMNS " FROM users WHERE id = $1"};

constexpr Statement kCredentials{
    "users_credentials",
    "SELECT " USER_COLUMNS ", password_hash FROM users WHERE username = $1"};

// '{' sorts right after 'z', and usernames hold only [a-z0-9_.], so this range
// is exactly "starts with $1" and runs on the unique index (C collation).
constexpr Statement kSearch{"users_search_prefix",
                            "SELECT " USER_COLUMNS " FROM users "
                            "WHERE username >= $1 AND username < $1 || '{' "
                            "ORDER BY username LIMIT $2"};

// '' leaves a setting as it is.
constexpr Statement kSettings{"users_settings", R"sql(
UPDATE users SET dm_policy = coalesce(NULLIF($2, ''), dm_policy),
                 read_receipts = coalesce(NULLIF($3, '')::boolean, read_receipts),
                 show_presence = coalesce(NULLIF($4, '')::boolean, show_presence)
WHERE id = $1
RETURNING dm_policy, read_receipts, show_presence)sql"};
constexpr Statement kReadSettings{"users_read_settings",
                                  "SELECT dm_policy, read_receipts, show_presence FROM users WHERE id = $1"};

}  // namespace

std::optional<model::User> UserStore::insert(const std::string& username,
                                             const std::string& display_name,
                                             const std::string& password_hash,
                                             model::DmPolicy dm_policy) {
  auto r = tx_of(tx_).exec(kUserInsert, username, display_name, password_hash,
                           std::string(model::to_string(dm_policy)));
  if (r.empty()) return std::nullopt;
  return user_from(r[0]);
}

std::optional<model::User> UserStore::find(model::UserId id) {
  auto r = tx_of(tx_).exec(kUserFind, id);
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

std::optional<model::Settings> UserStore::settings(model::UserId id,
                                                  const model::SettingsChange& change) {
  std::string policy = change.dm_policy ? model::to_string(*change.dm_policy) : "";
  auto flag = [](std::optional<bool> b) -> std::string { return b ? (*b ? "true" : "false") : ""; };
  bool read_only = !change.dm_policy && !change.read_receipts && !change.show_presence;
  auto r = read_only ? tx_of(tx_).exec(kReadSettings, id)
                     : tx_of(tx_).exec(kSettings, id, policy, flag(change.read_receipts),
                                       flag(change.show_presence));
  if (r.empty()) return std::nullopt;
  model::Settings s;
  s.dm_policy = model::dm_policy_from(r[0][0].as<std::string>()).value_or(model::DmPolicy::everyone);
  s.read_receipts = r[0][1].as<bool>();
  s.show_presence = r[0][2].as<bool>();
  return s;
}

}  // namespace chatd::store
