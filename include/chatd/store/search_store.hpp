// Message search: the caller's live messages that hold every term, newest
// first. Two ways to the same page: `walk` (migrations/0010_search_walk.sql)
// reads conversations newest first and suits a common term; `find`
// (migrations/0008_search.sql) asks the trigram index and suits a rare one.
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
  // after `after` (older), at most `limit`. Each is one statement.
  std::vector<SearchHit> find(model::UserId reader, model::ConversationId conversation,
                              const std::vector<SearchTerm>& terms,
                              const std::optional<SearchPosition>& after, int limit);
  // The same page, or none when it would take reading more than `budget`
  // messages (then `find` is the cheaper way).
  std::optional<std::vector<SearchHit>> walk(model::UserId reader,
                                             model::ConversationId conversation,
                                             const std::vector<SearchTerm>& terms,
                                             const std::optional<SearchPosition>& after,
                                             int limit, int budget);

 private:
  Transaction& tx_;
};

}  // namespace chatd::store
