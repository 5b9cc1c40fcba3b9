#include "chatd/store/search_store.hpp"

#include <algorithm>
#include <limits>

#include <nlohmann/json.hpp>

#include "pg.hpp"
#include "rows.hpp"

namespace chatd::store {

namespace {

// $3: every term as {pattern, regex}; $4: the longest term's pattern, named
// alone so the trigram index can narrow the rows first. The reader's
// membership comes from the join: a former member finds nothing.
// Planned for each query's own terms (run unprepared: a one-shot plan sees
// the parameters): a generic plan cannot see that one term is rare (the
// trigram index) and another common, and measured 7x slower on a common one.

constexpr Statement kSearchFind{"search_find", R"sql(
SELECT )sql" CHATD_MESSAGE_COLUMNS("m") R"sql(,
       (extract(epoch FROM m.created_at) * 1000000)::bigint
FROM members mm
JOIN messages m ON m.conversation_id = mm.conversation_id
WHERE mm.user_id = $1::bigint AND ($2::bigint = 0 OR mm.conversation_id = $2::bigint)
  AND NOT m.deleted
  AND m.body ILIKE $4
  AND NOT EXISTS (
    SELECT 1 FROM jsonb_to_recordset($3::jsonb) AS t(pattern text, regex text)
    WHERE NOT (m.body ILIKE t.pattern AND (t.regex IS NULL OR m.body ~* t.regex)))
  AND (m.created_at, m.conversation_id, m.seq)
      < (timestamptz 'epoch' + interval '1 microsecond' * $5::double precision, $6, $7)
ORDER BY m.created_at DESC, m.conversation_id DESC, m.seq DESC
LIMIT $8)sql"};

// The walk's page, rendered, in one statement (one snapshot: the function is
// STABLE). Over budget: one row whose message columns are NULL and whose
// last column says so.
constexpr Statement kWalk{"search_walk", R"sql(
SELECT )sql" CHATD_MESSAGE_COLUMNS("m") R"sql(,
       (extract(epoch FROM m.created_at) * 1000000)::bigint, k.over_budget
FROM chatd_search_walk($1::bigint, $2::bigint, $3::jsonb,
                       timestamptz 'epoch' + interval '1 microsecond' * $4::double precision,
                       $5::bigint, $6::bigint, $7::int, $8::int) WITH ORDINALITY AS k
LEFT JOIN messages m ON m.conversation_id = k.conversation_id AND m.seq = k.seq
ORDER BY k.ordinality)sql"};

std::string like_pattern(const std::string& text) {
  std::string out = "%";
  for (char c : text) {
    if (c == '%' || c == '_' || c == '\\') out += '\\';
    out += c;
  }
  return out + "%";
}

// A word's beginning, then the term literally (PostgreSQL's ARE syntax).
std::string word_prefix_regex(const std::string& text) {
  std::string out = "\\m";
  for (char c : text) {
    if (std::string_view("\\.^$|?*+()[]{}").find(c) != std::string_view::npos) out += '\\';
    out += c;
  }
  return out;
}

nlohmann::json term_list(const std::vector<SearchTerm>& terms) {
  auto list = nlohmann::json::array();
  for (const auto& t : terms) {
    list.push_back({{"pattern", like_pattern(t.text)},
                    {"regex", t.word_prefix ? nlohmann::json(word_prefix_regex(t.text)) : nlohmann::json()}});
  }
  return list;
}

// No cursor: a position past any message (the year 2262 in microseconds
// would overflow the interval arithmetic, so cap at year 9999).
SearchPosition start_of(const std::optional<SearchPosition>& after) {
  constexpr auto kMax = std::numeric_limits<std::int64_t>::max();
  return after.value_or(SearchPosition{kMax, kMax, kMax});
}
double micros_of(const SearchPosition& p) {
  return std::min<double>(static_cast<double>(p.created_us), 253402300799e6);
}

std::vector<SearchHit> hits_of(const pqxx::result& rows) {
  std::vector<SearchHit> out;
  for (const auto& row : rows) {
    SearchHit hit;
    hit.message = message_from(row);
    hit.position = {row[5].as<std::int64_t>(), hit.message.conversation_id, hit.message.seq};
    out.push_back(std::move(hit));
  }
  return out;
}

}  // namespace

std::optional<std::vector<SearchHit>> SearchStore::walk(model::UserId reader,
                                                        model::ConversationId conversation,
                                                        const std::vector<SearchTerm>& terms,
                                                        const std::optional<SearchPosition>& after,
                                                        int limit, int budget) {
  auto from = start_of(after);
  auto rows = tx_of(tx_).exec(kWalk, reader, conversation, term_list(terms).dump(),
                              micros_of(from), from.conversation, from.seq, limit, budget);
  for (const auto& row : rows) {
    if (row[6].as<bool>()) return std::nullopt;
  }
  return hits_of(rows);
}

std::vector<SearchHit> SearchStore::find(model::UserId reader, model::ConversationId conversation,
                                         const std::vector<SearchTerm>& terms,
                                         const std::optional<SearchPosition>& after, int limit) {
  // The trigram index narrows by the longest term first.
  std::string longest;
  for (const auto& t : terms) {
    if (t.text.size() > longest.size()) longest = t.text;
  }
  auto from = start_of(after);
  return hits_of(tx_of(tx_).work().exec_params(kSearchFind.sql, reader, conversation,
                                               term_list(terms).dump(), like_pattern(longest),
                                               micros_of(from), from.conversation, from.seq,
                                               limit));
}

}  // namespace chatd::store
