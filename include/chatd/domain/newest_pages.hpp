// The newest page of history of recently read conversations, kept per
// conversation with the conversation's last seq when it was read.
//
// Why it is correct without invalidation: every change that alters what a
// page shows (a message, an edit, a delete, a reaction added or removed) is
// an event of the conversation's log and moves its last_seq in the same
// transaction. A reader that has just read last_seq = L from the database
// (with its membership, in one cheap statement) may therefore be given the
// page rendered when last_seq was L; any other L' is a miss. A page read on
// another instance, or one written by it, needs nothing from here: the key
// is read from the database on every request.
//
// Bounded in pages and bytes; the least recently used page goes first.
// Thread-safe (database workers read and fill it).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "chatd/model/conversation.hpp"
#include "chatd/store/message_store.hpp"

namespace chatd::domain {

class NewestPages {
 public:
  using Page = store::Page<model::Message>;
  using PagePtr = std::shared_ptr<const Page>;

  explicit NewestPages(std::size_t max_pages = 4096, std::size_t max_bytes = std::size_t{64} << 20)
      : max_pages_(max_pages), max_bytes_(max_bytes) {}

  // The page of `limit` messages read when the conversation's last seq was
  // `last_seq`, if kept.
  PagePtr find(model::ConversationId id, model::Seq last_seq, int limit);
  void put(model::ConversationId id, model::Seq last_seq, int limit, PagePtr page);

  std::uint64_t hits() const { return hits_.load(std::memory_order_relaxed); }
  std::uint64_t misses() const { return misses_.load(std::memory_order_relaxed); }
  std::size_t size() const;
  std::size_t bytes() const;

 private:
  struct Entry {
    model::Seq last_seq = 0;
    int limit = 0;
    PagePtr page;
    std::size_t bytes = 0;
    std::list<model::ConversationId>::iterator lru;
  };
  void drop(std::unordered_map<model::ConversationId, Entry>::iterator it);

  const std::size_t max_pages_;
  const std::size_t max_bytes_;
  mutable std::mutex mu_;
  std::unordered_map<model::ConversationId, Entry> entries_;
  std::list<model::ConversationId> lru_;  // most recently used first
  std::size_t bytes_ = 0;
  std::atomic<std::uint64_t> hits_{0};
  std::atomic<std::uint64_t> misses_{0};
};

}  // namespace chatd::domain
