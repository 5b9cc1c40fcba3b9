// Message search (migrations/0008_search.sql): the caller's live messages
// that hold every term, newest first, in one statement.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "chatd/model/conversation.hpp"

namespace chatd::store {

class Transaction;

struct SearchTerm {
  std::string text;
  bool word_prefix = false;  // match at a word's beginning; else anywhere
};

// Where a result stands in the newest-first order.
struct SearchPosition {
  std::int64_t created_us = 0;  // microseconds since the epoch
  model::ConversationId conversation = 0;
  model::Seq seq = 0;
};

struct SearchHit {
  model::Message message;
  SearchPosition position;
};

class SearchStore {
 public:
  explicit SearchStore(Transaction& tx) : tx_(tx) {}
  // `conversation` 0: every conversation `reader` is a member of. Strictly
  // after `after` (older), at most `limit`. Inside a transaction (it sets
  // plan_cache_mode for it).
  std::vector<SearchHit> find(model::UserId reader, model::ConversationId conversation,
                              const std::vector<SearchTerm>& terms,
                              const std::optional<SearchPosition>& after, int limit);

 private:
  Transaction& tx_;
};

}  // namespace chatd::store
