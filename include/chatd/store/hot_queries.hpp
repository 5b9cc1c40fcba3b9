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

}  // namespace chatd::store
