// Plain data shared by the domain and the store. No behaviour, no JSON, no SQL.
#pragma once

#include <cstdint>
#include <string>

namespace chatd::model {

using UserId = std::int64_t;

struct User {
  UserId id = 0;
  std::string username;
  std::string display_name;
  std::int64_t created_at_ms = 0;
};

// What login needs: the user and the stored argon2id hash to verify against.
struct Credentials {
  User user;
  std::string password_hash;
};

}  // namespace chatd::model
