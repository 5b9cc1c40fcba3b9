// Bearer-token sessions, stored only by token hash.
#pragma once

#include <optional>
#include <string>

#include "chatd/model/user.hpp"

namespace chatd::store {

class Connection;

class SessionStore {
 public:
  explicit SessionStore(Connection& conn) : conn_(conn) {}

  void insert(model::UserId user, const std::string& token_hash);
  // The user of a live (not revoked) session.
  std::optional<model::User> user_for(const std::string& token_hash);
  // True when a live session was revoked by this call.
  bool revoke(const std::string& token_hash);

 private:
  Connection& conn_;
};

}  // namespace chatd::store
