// Message search over the caller's conversations (API.md, "Search"). The
// query is split into terms, each of which every result must hold: a term
// that starts with a Latin letter or digit matches a word's beginning
// ("hel" finds "Hello there"), any other (Chinese, Japanese, Korean, emoji,
// punctuation) matches anywhere ("你好" finds "大家你好"); case never matters.
#pragma once

#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "chatd/core/async.hpp"
#include "chatd/core/expected.hpp"
#include "chatd/model/conversation.hpp"
#include "chatd/store/search_store.hpp"

namespace chatd::store {
class DbPool;
}

namespace chatd::domain {

// The terms of a query (1..200 characters of valid UTF-8, split at white
// space; at most 8 terms, 1..200 characters each), or 400 naming `q`.
Expected<std::vector<store::SearchTerm>> search_terms(const std::string& q);

// Result cursors: "<created_at µs>.<conversation>.<seq>", opaque to clients.
std::string encode_search_cursor(const store::SearchPosition& p);
std::optional<store::SearchPosition> decode_search_cursor(const std::string& text);

struct SearchPage {
  std::vector<model::Message> results;
  std::optional<std::string> next_cursor;
};

// Which way a query's terms are cheaper to look up. A query is first walked
// (newest messages first, stopping at a page: a common term); when the walk
// would read more than kWalkBudget messages, the trigram index answers (a
// rare term), and the caller's terms are remembered as rare for `ttl`, so
// that their next query goes to the index at once. Bounded: forgets everything
// when full. Thread-safe.
class RareTerms {
 public:
  explicit RareTerms(std::size_t capacity = 10'000,
                     std::chrono::seconds ttl = std::chrono::minutes(10))
      : capacity_(capacity), ttl_(ttl) {}
  bool rare(const std::string& key, std::chrono::steady_clock::time_point now);
  void remember(const std::string& key, std::chrono::steady_clock::time_point now);

 private:
  std::size_t capacity_;
  std::chrono::seconds ttl_;
  std::mutex mu_;
  std::unordered_map<std::string, std::chrono::steady_clock::time_point> since_;
};

// Messages a walk may read before the trigram index is asked instead.
inline constexpr int kWalkBudget = 1000;

class SearchService {
 public:
  explicit SearchService(store::DbPool& db) : db_(db) {}
  // Newest first. With `conversation`, only there (404 when the caller is not
  // a member); otherwise over every conversation the caller is a member of now.
  Task<Expected<SearchPage>> messages(model::UserId me, std::string q,
                                      std::optional<model::ConversationId> conversation, int limit,
                                      std::optional<std::string> cursor);

 private:
  store::DbPool& db_;
  RareTerms rare_;
};

}  // namespace chatd::domain
