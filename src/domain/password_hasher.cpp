#include "chatd/domain/password_hasher.hpp"

#include <sodium.h>

#include <stdexcept>

namespace chatd::domain {

PasswordHasher::PasswordHasher(PasswordCost cost) : cost_(cost) {
  if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
  dummy_hash_ = hash("chatd-dummy-password-for-timing");
}

std::string PasswordHasher::hash(const std::string& password) const {
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str(out, password.data(), password.size(), cost_.ops,
                        cost_.mem_kib * 1024) != 0) {
    throw std::runtime_error("password hashing ran out of memory");
  }
  return out;
}

bool PasswordHasher::verify(const std::string& stored_hash, const std::string& password) const {
  return crypto_pwhash_str_verify(stored_hash.c_str(), password.data(), password.size()) == 0;
}

void PasswordHasher::verify_dummy(const std::string& password) const {
  (void)verify(dummy_hash_, password);
}

}  // namespace chatd::domain
