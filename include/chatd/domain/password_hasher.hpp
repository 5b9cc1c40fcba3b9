// argon2id password hashing (libsodium crypto_pwhash_str). Slow by design: call
// it on the CPU worker pool, never on an IO thread.
#pragma once

#include <cstddef>
#include <string>

namespace chatd::domain {

struct PasswordCost {
  unsigned long long ops = 2;               // crypto_pwhash_OPSLIMIT_INTERACTIVE
  std::size_t mem_kib = 64 * 1024;          // crypto_pwhash_MEMLIMIT_INTERACTIVE
};

class PasswordHasher {
 public:
  explicit PasswordHasher(PasswordCost cost = {});

  std::string hash(const std::string& password) const;
  bool verify(const std::string& stored_hash, const std::string& password) const;
  // Spends the same time as a real verification; used for unknown usernames so
  // that login timing does not reveal which usernames exist.
  void verify_dummy(const std::string& password) const;

 private:
  PasswordCost cost_;
  std::string dummy_hash_;
};

}  // namespace chatd::domain
