// The reads the chat hot paths depend on, exposed so a test can EXPLAIN the
// exact statements the store runs and fail on a sequential scan.
#pragma once

#include <string>
#include <vector>

namespace chatd::store {

struct HotQuery {
  std::string name;
  std::string sql;          // with $n parameters
  std::string param_types;  // for PREPARE, e.g. "bigint, bigint"
};

std::vector<HotQuery> hot_queries();

// The send batch's read of each request's conversation, membership and
// stored retry ($1: a JSON array of {i, conv, uid, cmid, reply_to, att}).
// Its subqueries for rare cases (blocks, reply_to, attachments) may scan
// small tables; its per-request lookups are made per request, never by
// hashing a whole table, and the messages are probed by key.
HotQuery send_states_query();

}  // namespace chatd::store
