// Accounts: registration, login, token sessions, user lookup. Applies the
// contract's rules; the store does the SQL, the CPU pool does the hashing.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "chatd/core/async.hpp"
#include "chatd/core/expected.hpp"
#include "chatd/core/rate_limit.hpp"
#include "chatd/domain/event_publisher.hpp"
#include "chatd/domain/password_hasher.hpp"
#include "chatd/domain/token_cache.hpp"
#include "chatd/model/user.hpp"

namespace chatd::store {
class DbPool;
}

namespace chatd::domain {

struct Login {
  std::string token;
  model::User user;
};

class AccountService {
 public:
  // login_rate: attempts per username per window (--rate-logins); off: no limit.
  // default_dm_policy: a new user's policy (--default-dm-policy).
  AccountService(store::DbPool& db, WorkerPool& cpu, const PasswordHasher& hasher,
                 EventPublisher& publisher, Rate login_rate = {},
                 model::DmPolicy default_dm_policy = model::DmPolicy::everyone)
      : db_(db),
        cpu_(cpu),
        hasher_(hasher),
        publisher_(publisher),
        login_rate_(login_rate),
        default_dm_policy_(default_dm_policy) {}

  // conflict `username_taken` when the name exists, also under a race.
  Task<Expected<model::User>> register_user(std::string username, std::string password,
                                            std::optional<std::string> display_name);
  // unauthenticated `invalid_credentials`, alike for unknown user and wrong
  // password; rate_limited once a username had its attempts this window
  // (whatever the password, and alike whether the account exists).
  Task<Expected<Login>> login(std::string username, std::string password);
  // The user behind a live token (from the token cache when it is there).
  Task<Expected<model::User>> authenticate(std::string token);
  // A token revoked elsewhere (another instance): drop it from the cache.
  void forget_token(const std::string& token_hash) { tokens_.forget(token_hash); }
  // Revocations may have been missed: drop every cached token.
  void forget_all_tokens() { tokens_.clear(); }
  Task<Expected<Unit>> logout(std::string token);
  Task<Expected<model::User>> user(model::UserId id);
  Task<Expected<std::vector<model::User>>> search(std::string prefix, int limit);
  // The caller's settings (v1.1). Fan-out reads them when it delivers, so a
  // change holds on every instance without an announcement.
  Task<Expected<model::Settings>> settings(model::UserId me);
  Task<Expected<model::Settings>> update_settings(model::UserId me, model::SettingsChange change);

 private:
  store::DbPool& db_;
  WorkerPool& cpu_;
  const PasswordHasher& hasher_;
  EventPublisher& publisher_;
  Rate login_rate_;
  model::DmPolicy default_dm_policy_;
  TokenCache tokens_;
};

}  // namespace chatd::domain
