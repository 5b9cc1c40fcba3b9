#include "chatd/domain/token_cache.hpp"

namespace chatd::domain {

std::optional<model::User> TokenCache::find(const std::string& token_hash, Clock::time_point now) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(token_hash);
  if (it == entries_.end()) return std::nullopt;
  if (it->second.expires <= now) {
    entries_.erase(it);
    return std::nullopt;
  }
  return it->second.user;
}

std::uint64_t TokenCache::epoch() const {
  std::lock_guard lock(mu_);
  return epoch_;
}

void TokenCache::put(const std::string& token_hash, const model::User& user, std::uint64_t epoch,
                     Clock::time_point now) {
  std::lock_guard lock(mu_);
  if (epoch != epoch_) return;  // a revocation happened meanwhile
  if (entries_.size() >= capacity_) entries_.clear();
  entries_[token_hash] = Entry{user, now + ttl_};
}

void TokenCache::forget(const std::string& token_hash) {
  std::lock_guard lock(mu_);
  ++epoch_;
  entries_.erase(token_hash);
}

void TokenCache::clear() {
  std::lock_guard lock(mu_);
  ++epoch_;
  entries_.clear();
}

std::size_t TokenCache::size() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

}  // namespace chatd::domain
