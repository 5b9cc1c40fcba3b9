// Login attempts per username in a fixed window (migrations/0005). Every
// method runs inside the caller's Transaction.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace chatd::store {

class Transaction;

struct LoginWindow {
  std::int64_t attempts = 0;           // in the current window, this one included
  std::chrono::milliseconds left{0};   // until the window ends
};

class LoginAttemptStore {
 public:
  explicit LoginAttemptStore(Transaction& tx) : tx_(tx) {}

  // Counts an attempt for `username` in a window of `window` (a new window
  // when the last one ended), and forgets a few windows that ended.
  LoginWindow attempt(const std::string& username, std::chrono::milliseconds window);
  // A successful login: the count starts over.
  void clear(const std::string& username);

 private:
  Transaction& tx_;
};

}  // namespace chatd::store
