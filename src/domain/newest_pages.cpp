#include "chatd/domain/newest_pages.hpp"

namespace chatd::domain {

namespace {
std::size_t size_of(const NewestPages::Page& page) {
  std::size_t n = sizeof(page) + 64;
  for (const auto& m : page.items) n += sizeof(m) + m.json.capacity();
  return n;
}
}  // namespace

NewestPages::PagePtr NewestPages::find(model::ConversationId id, model::Seq last_seq, int limit) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(id);
  if (it == entries_.end() || it->second.last_seq != last_seq || it->second.limit != limit) {
    misses_.fetch_add(1, std::memory_order_relaxed);
    return nullptr;
  }
  lru_.splice(lru_.begin(), lru_, it->second.lru);
  hits_.fetch_add(1, std::memory_order_relaxed);
  return it->second.page;
}

void NewestPages::put(model::ConversationId id, model::Seq last_seq, int limit, PagePtr page) {
  std::size_t bytes = size_of(*page);
  if (bytes > max_bytes_ || max_pages_ == 0) return;
  std::lock_guard lock(mu_);
  auto it = entries_.find(id);
  if (it != entries_.end()) {
    // A reader of an older state must not replace a newer page.
    if (it->second.last_seq > last_seq) return;
    drop(it);
  }
  while (!lru_.empty() && (entries_.size() >= max_pages_ || bytes_ + bytes > max_bytes_)) {
    drop(entries_.find(lru_.back()));
  }
  lru_.push_front(id);
  entries_.emplace(id, Entry{last_seq, limit, std::move(page), bytes, lru_.begin()});
  bytes_ += bytes;
}

void NewestPages::drop(std::unordered_map<model::ConversationId, Entry>::iterator it) {
  bytes_ -= it->second.bytes;
  lru_.erase(it->second.lru);
  entries_.erase(it);
}

std::size_t NewestPages::size() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

std::size_t NewestPages::bytes() const {
  std::lock_guard lock(mu_);
  return bytes_;
}

}  // namespace chatd::domain
