#include "chatd/domain/account_service.hpp"

#include <exception>

#include "chatd/domain/session_tokens.hpp"
#include "chatd/domain/validation.hpp"
#include "chatd/store/db_pool.hpp"
#include "chatd/store/transaction.hpp"
#include "chatd/store/login_attempt_store.hpp"
#include "chatd/store/session_store.hpp"
#include "chatd/store/user_store.hpp"

// Jobs handed to the pools are named locals: see run_on in core/async.hpp.

namespace chatd::domain {

namespace {
Error invalid_credentials() {
  return {ErrorKind::unauthenticated, "invalid_credentials", "username or password is wrong"};
}
}  // namespace

Task<Expected<model::User>> AccountService::register_user(
    std::string username, std::string password, std::optional<std::string> display_name) {
  if (auto p = username_problem(username); !p.empty()) co_return Error::invalid(p);
  if (auto p = password_problem(password); !p.empty()) co_return Error::invalid(p);
  if (display_name) {
    if (auto p = display_name_problem(*display_name); !p.empty()) co_return Error::invalid(p);
  }
  std::string name = display_name ? *display_name : username;

  const PasswordHasher* hasher = &hasher_;
  auto hash_job = [hasher, password](std::size_t) { return hasher->hash(password); };
  std::string hash = co_await run_on<std::string>(cpu_, hash_job);

  auto policy = default_dm_policy_;
  auto insert = [username, name, hash, policy](store::Connection& c) {
    return store::transact(c, [&](store::Transaction& tx) {
      return store::UserStore(tx).insert(username, name, hash, policy);
    });
  };
  auto user = co_await db_.run<std::optional<model::User>>(insert);
  if (!user) co_return Error::conflict("username_taken", "username is already taken");
  co_return *user;
}

namespace {
struct LoginLookup {
  std::optional<model::Credentials> creds;
  store::LoginWindow window;  // attempts 0: not limited
};
}  // namespace

Task<Expected<Login>> AccountService::login(std::string username, std::string password) {
  // A malformed username cannot exist; answer exactly as for a wrong password.
  bool plausible = username_problem(username).empty() && password_problem(password).empty();
  std::optional<model::Credentials> creds;
  bool limited = plausible && !login_rate_.off();
  if (plausible) {
    // The attempt is counted before the password is checked, so concurrent
    // guesses are bounded too.
    Rate rate = login_rate_;
    auto lookup = [username, rate, limited](store::Connection& c) {
      return store::transact(c, [&](store::Transaction& tx) {
        LoginLookup out;
        if (limited) out.window = store::LoginAttemptStore(tx).attempt(username, rate.per);
        out.creds = store::UserStore(tx).credentials(username);
        return out;
      });
    };
    auto found = co_await db_.run<LoginLookup>(lookup);
    if (limited && found.window.attempts > login_rate_.count) {
      co_return Error::rate_limited("too many login attempts for this username; try again later",
                                    found.window.left);
    }
    creds = std::move(found.creds);
  }
  const PasswordHasher* hasher = &hasher_;
  std::string stored = creds ? creds->password_hash : std::string();
  auto verify = [hasher, stored, password](std::size_t) {
    if (stored.empty()) {
      hasher->verify_dummy(password);
      return false;
    }
    return hasher->verify(stored, password);
  };
  bool ok = co_await run_on<bool>(cpu_, verify);
  if (!ok) co_return invalid_credentials();

  IssuedToken token = issue_token();
  model::UserId uid = creds->user.id;
  std::string token_hash = token.hash;
  std::string name = username;
  auto insert = [uid, token_hash, name, limited](store::Connection& c) {
    store::transact(c, [&](store::Transaction& tx) {
      store::SessionStore(tx).insert(uid, token_hash);
      if (limited) store::LoginAttemptStore(tx).clear(name);
    });
    return 0;
  };
  co_await db_.run<int>(insert);
  co_return Login{token.token, creds->user};
}

Task<Expected<model::User>> AccountService::authenticate(std::string token) {
  if (!looks_like_token(token)) co_return Error::unauthenticated();
  std::string h = hash_token(token);
  if (auto cached = tokens_.find(h)) co_return *cached;
  auto epoch = tokens_.epoch();
  auto lookup = [h](store::Connection& c) {
    return store::transact(
        c, [&](store::Transaction& tx) { return store::SessionStore(tx).user_for(h); },
        store::TxMode::one_statement);
  };
  auto user = co_await db_.run<std::optional<model::User>>(lookup);
  if (!user) co_return Error::unauthenticated();
  tokens_.put(h, *user, epoch);
  co_return *user;
}

Task<Expected<Unit>> AccountService::logout(std::string token) {
  if (!looks_like_token(token)) co_return Error::unauthenticated();
  std::string h = hash_token(token);
  auto revoke = [h](store::Connection& c) {
    return store::transact(c, [&](store::Transaction& tx) { return store::SessionStore(tx).revoke(h); });
  };
  // Forgotten first: whatever happens below, this instance asks the
  // database again for this token.
  tokens_.forget(h);
  bool revoked = false;
  std::exception_ptr failure;
  try {
    revoked = co_await db_.run<bool>(revoke);
  } catch (...) {
    failure = std::current_exception();
  }
  if (failure) {
    // The revoke may have committed (an in-doubt commit): other instances
    // must not keep it cached, so announce it anyway (harmless if it did
    // not commit: they re-read the token), then fail as before.
    publisher_.token_revoked(h);
    std::rethrow_exception(failure);
  }
  tokens_.forget(h);
  if (!revoked) co_return Error::unauthenticated();
  publisher_.token_revoked(h);  // its sockets close, on every instance
  co_return Unit{};
}

Task<Expected<model::User>> AccountService::user(model::UserId id) {
  auto lookup = [id](store::Connection& c) {
    return store::transact(
        c, [&](store::Transaction& tx) { return store::UserStore(tx).find(id); },
        store::TxMode::one_statement);
  };
  auto user = co_await db_.run<std::optional<model::User>>(lookup);
  if (!user) co_return Error::not_found("no user with id " + std::to_string(id));
  co_return *user;
}

Task<Expected<std::vector<model::User>>> AccountService::search(std::string prefix, int limit) {
  if (prefix.empty() || prefix.size() > 32) {
    co_return Error::invalid("prefix must be 1 to 32 characters");
  }
  for (char c : prefix) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.')) {
      co_return Error::invalid("prefix may contain only a-z, 0-9, '_' and '.'");
    }
  }
  auto query = [prefix, limit](store::Connection& c) {
    return store::transact(
        c, [&](store::Transaction& tx) { return store::UserStore(tx).search_prefix(prefix, limit); },
        store::TxMode::one_statement);
  };
  co_return co_await db_.run<std::vector<model::User>>(query);
}

Task<Expected<model::Settings>> AccountService::settings(model::UserId me) {
  co_return co_await update_settings(me, {});
}

Task<Expected<model::Settings>> AccountService::update_settings(model::UserId me,
                                                                model::SettingsChange change) {
  auto job = [me, change](store::Connection& c) {
    return store::transact(c, [&](store::Transaction& tx) -> Expected<model::Settings> {
      auto s = store::UserStore(tx).settings(me, change);
      if (!s) return Error::not_found("no user with id " + std::to_string(me));
      return *s;
    }, store::TxMode::one_statement);
  };
  auto result = co_await db_.run<Expected<model::Settings>>(job);
  if (result && change.show_presence) publisher_.presence_shown(me, result->show_presence);
  co_return result;
}

}  // namespace chatd::domain
