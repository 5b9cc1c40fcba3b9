#include "chatd/domain/search_service.hpp"

#include "chatd/domain/permissions.hpp"
#include "chatd/domain/validation.hpp"
#include "chatd/store/conversation_store.hpp"
#include "chatd/store/db_pool.hpp"
#include "chatd/store/transaction.hpp"

namespace chatd::domain {

namespace {
constexpr std::size_t kMaxQuery = 200;
constexpr std::size_t kMaxTerms = 8;

bool is_space(unsigned char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

// A Latin letter or digit: ASCII, or a code point in Latin-1 Supplement to
// Latin Extended-B (U+00C0..U+024F, two bytes in UTF-8) other than × and ÷.
bool starts_latin(const std::string& term) {
  auto c = static_cast<unsigned char>(term[0]);
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
  if (term.size() < 2 || c < 0xC3 || c > 0xC9) return false;
  unsigned cp = ((c & 0x1Fu) << 6) | (static_cast<unsigned char>(term[1]) & 0x3Fu);
  return cp >= 0xC0 && cp <= 0x24F && cp != 0xD7 && cp != 0xF7;
}
}  // namespace

Expected<std::vector<store::SearchTerm>> search_terms(const std::string& q) {
  auto length = utf8_length(q);
  if (!length) return Error::invalid("q must be valid UTF-8");
  if (*length < 1 || *length > kMaxQuery) return Error::invalid("q must be 1 to 200 characters");
  // No message holds U+0000 (bodies refuse it), and PostgreSQL text cannot.
  if (q.find('\0') != std::string::npos) return Error::invalid("q must not hold U+0000");
  std::vector<store::SearchTerm> terms;
  std::size_t i = 0;
  while (i < q.size()) {
    while (i < q.size() && is_space(static_cast<unsigned char>(q[i]))) ++i;
    std::size_t start = i;
    while (i < q.size() && !is_space(static_cast<unsigned char>(q[i]))) ++i;
    if (i == start) break;
    std::string text = q.substr(start, i - start);
    terms.push_back({text, starts_latin(text)});
  }
  if (terms.empty()) return Error::invalid("q must hold something besides spaces");
  if (terms.size() > kMaxTerms) return Error::invalid("q may hold at most 8 words");
  return terms;
}

std::string encode_search_cursor(const store::SearchPosition& p) {
  return std::to_string(p.created_us) + "." + std::to_string(p.conversation) + "." +
         std::to_string(p.seq);
}

std::optional<store::SearchPosition> decode_search_cursor(const std::string& text) {
  auto first = text.find('.');
  auto second = first == std::string::npos ? first : text.find('.', first + 1);
  if (second == std::string::npos) return std::nullopt;
  auto a = parse_id(std::string_view(text).substr(0, first), "cursor");
  auto b = parse_id(std::string_view(text).substr(first + 1, second - first - 1), "cursor");
  auto c = parse_id(std::string_view(text).substr(second + 1), "cursor");
  if (!a || !b || !c) return std::nullopt;
  return store::SearchPosition{*a, *b, *c};
}

bool RareTerms::rare(const std::string& key, std::chrono::steady_clock::time_point now) {
  std::lock_guard lock(mu_);
  auto it = since_.find(key);
  if (it == since_.end()) return false;
  if (now - it->second > ttl_) {
    since_.erase(it);
    return false;
  }
  return true;
}

void RareTerms::remember(const std::string& key, std::chrono::steady_clock::time_point now) {
  std::lock_guard lock(mu_);
  if (since_.size() >= capacity_) since_.clear();
  since_[key] = now;
}

Task<Expected<SearchPage>> SearchService::messages(model::UserId me, std::string q,
                                                   std::optional<model::ConversationId> conversation,
                                                   int limit, std::optional<std::string> cursor) {
  auto terms = search_terms(q);
  if (!terms) co_return terms.error();
  std::optional<store::SearchPosition> after;
  if (cursor) {
    after = decode_search_cursor(*cursor);
    if (!after) co_return Error::invalid("cursor is not one this server issued");
  }
  // The caller and the terms, as the rare-term memory knows them (per user:
  // a term rare among one user's messages may be common among another's;
  // case and order kept: cheap, and a miss only costs one walk).
  std::string key = std::to_string(me) + '\x03';
  for (const auto& t : *terms) key += t.text + (t.word_prefix ? "\x01" : "\x02");
  auto now = std::chrono::steady_clock::now();
  bool known_rare = rare_.rare(key, now);
  bool found_rare = false;
  bool* went_to_index = &found_rare;
  auto job = [me, conversation, limit, after, known_rare, went_to_index,
              terms = std::move(*terms)](store::Connection& c) {
    // Over every conversation: one statement (two when the walk gives up),
    // each its own snapshot. In one conversation: its membership and the
    // search in one snapshot.
    auto mode = conversation ? store::TxMode::write : store::TxMode::one_statement;
    return store::transact(c, [&](store::Transaction& tx) -> Expected<SearchPage> {
      if (conversation) {
        store::use_snapshot(tx);
        auto m = store::ConversationStore(tx).membership(*conversation, me, false);
        if (auto ok = authorize(Action::read, m, me); !ok) return ok.error();
      }
      store::SearchStore search(tx);
      std::optional<std::vector<store::SearchHit>> walked;
      if (!known_rare) {
        walked = search.walk(me, conversation.value_or(0), terms, after, limit + 1, kWalkBudget);
        *went_to_index = !walked;
      }
      auto hits = walked ? std::move(*walked)
                         : search.find(me, conversation.value_or(0), terms, after, limit + 1);
      SearchPage page;
      bool more = static_cast<int>(hits.size()) > limit;
      if (more) hits.pop_back();
      if (more && !hits.empty()) page.next_cursor = encode_search_cursor(hits.back().position);
      for (auto& h : hits) page.results.push_back(std::move(h.message));
      return page;
    }, mode);
  };
  auto page = co_await db_.run<Expected<SearchPage>>(job);
  if (found_rare) rare_.remember(key, now);
  co_return page;
}

}  // namespace chatd::domain
