// Users table. Every method runs inside the caller's Transaction.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "chatd/model/user.hpp"

namespace chatd::store {

class Transaction;

class UserStore {
 public:
  explicit UserStore(Transaction& tx) : tx_(tx) {}

  // nullopt when the username is taken (also when a concurrent insert won).
  std::optional<model::User> insert(const std::string& username, const std::string& display_name,
                                    const std::string& password_hash,
                                    model::DmPolicy dm_policy = model::DmPolicy::everyone);
  std::optional<model::User> find(model::UserId id);
  std::optional<model::Credentials> credentials(const std::string& username);
  // Usernames starting with prefix, in username order.
  std::vector<model::User> search_prefix(const std::string& prefix, int limit);
  // The user's settings after applying `change` (one statement; an empty
  // change only reads); none when no such user.
  std::optional<model::Settings> settings(model::UserId id, const model::SettingsChange& change = {});

 private:
  Transaction& tx_;
};

}  // namespace chatd::store
