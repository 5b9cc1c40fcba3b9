// Bearer-token sessions, stored only by token hash. Every method runs inside
// the caller's Transaction.
#pragma once

#include <optional>
#include <string>

#include "chatd/model/user.hpp"

namespace chatd::store {

class Transaction;

class SessionStore {
 public:
  explicit SessionStore(Transaction& tx) : tx_(tx) {}

  void insert(model::UserId user, const std::string& token_hash);
  // The user of a live (not revoked) session.
  std::optional<model::User> user_for(const std::string& token_hash);
  // True when a live session was revoked by this call.
  bool revoke(const std::string& token_hash);

 private:
  Transaction& tx_;
};

}  // namespace chatd::store
