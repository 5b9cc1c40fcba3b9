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
// A plan for each query's own terms: a generic plan cannot see that one
// term is rare (the trigram index) and another common, and measured 7x
// slower on a common one (bench/run.sh, search-music).
constexpr Statement kCustomPlan{"search_custom_plan", "SET LOCAL plan_cache_mode = force_custom_plan"};

constexpr Statement kFind{"search_find", R"sql(
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

}  // namespace

std::vector<SearchHit> SearchStore::find(model::UserId reader, model::ConversationId conversation,
                                         const std::vector<SearchTerm>& terms,
                                         const std::optional<SearchPosition>& after, int limit) {
  auto list = nlohmann::json::array();
  std::string longest;
  for (const auto& t : terms) {
    list.push_back({{"pattern", like_pattern(t.text)},
                    {"regex", t.word_prefix ? nlohmann::json(word_prefix_regex(t.text)) : nlohmann::json()}});
    if (t.text.size() > longest.size()) longest = t.text;
  }
  constexpr auto kMax = std::numeric_limits<std::int64_t>::max();
  SearchPosition from = after.value_or(SearchPosition{kMax, kMax, kMax});
  // No cursor: a time past any message (the year 2262 in microseconds would
  // overflow the interval arithmetic, so cap at year 9999).
  double created = std::min<double>(static_cast<double>(from.created_us), 253402300799e6);
  std::vector<SearchHit> out;
  tx_of(tx_).exec(kCustomPlan);
  for (const auto& row : tx_of(tx_).exec(kFind, reader, conversation, list.dump(), like_pattern(longest),
                                         created, from.conversation, from.seq, limit)) {
    SearchHit hit;
    hit.message = message_from(row);
    hit.position = {row[5].as<std::int64_t>(), hit.message.conversation_id, hit.message.seq};
    out.push_back(std::move(hit));
  }
  return out;
}

}  // namespace chatd::store
