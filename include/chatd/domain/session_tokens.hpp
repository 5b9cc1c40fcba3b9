// Bearer tokens: 32 random bytes, handed to the client once as base64url (43
// characters); the server keeps only their SHA-256.
#pragma once

#include <string>
#include <string_view>

namespace chatd::domain {

struct IssuedToken {
  std::string token;  // give to the client, never store
  std::string hash;   // store this
};

IssuedToken issue_token();
std::string hash_token(std::string_view token);
// Shape check before any lookup: garbage never reaches the database.
bool looks_like_token(std::string_view token);

}  // namespace chatd::domain
