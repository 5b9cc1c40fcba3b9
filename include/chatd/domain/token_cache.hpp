// Recently authenticated tokens, so that a request with a live token does not
// cost a database round trip. Keyed by the token's hash, never the token.
//
// Revocation wins every race: forget() bumps an epoch, and a lookup that began
// before it cannot put its (now stale) answer back. Entries also expire after
// `ttl`, which bounds staleness should a revocation from another instance be
// missed (the hub clears the whole cache whenever its LISTEN connection was
// reset). Bounded: when full, the cache is emptied rather than grown.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "chatd/model/user.hpp"

namespace chatd::domain {

class TokenCache {
 public:
  using Clock = std::chrono::steady_clock;
  explicit TokenCache(std::chrono::milliseconds ttl = std::chrono::seconds(30),
                      std::size_t capacity = 100'000)
      : ttl_(ttl), capacity_(capacity) {}

  std::optional<model::User> find(const std::string& token_hash, Clock::time_point now = Clock::now());
  // Take before the database lookup; pass to put().
  std::uint64_t epoch() const;
  // Ignored when anything was forgotten since `epoch`.
  void put(const std::string& token_hash, const model::User& user, std::uint64_t epoch,
           Clock::time_point now = Clock::now());
  void forget(const std::string& token_hash);
  void clear();
  std::size_t size() const;

 private:
  struct Entry {
    model::User user;
    Clock::time_point expires;
  };
  std::chrono::milliseconds ttl_;
  std::size_t capacity_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Entry> entries_;
  std::uint64_t epoch_ = 0;
};

}  // namespace chatd::domain
