// Private to the store: model types from result rows.
#pragma once

#include <pqxx/pqxx>

#include "chatd/model/user.hpp"

namespace chatd::store {

// Columns: id, username, display_name, created_at (ms), starting at `first`.
inline model::User user_from(const pqxx::row& row, int first = 0) {
  model::User u;
  u.id = row[first].as<std::int64_t>();
  u.username = row[first + 1].as<std::string>();
  u.display_name = row[first + 2].as<std::string>();
  u.created_at_ms = row[first + 3].as<std::int64_t>();
  return u;
}

}  // namespace chatd::store
