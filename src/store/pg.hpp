// Private to the store: libpqxx access, named prepared statements and the
// transaction wrapper that turns connection loss into store::Unavailable.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include <pqxx/pqxx>

#include "chatd/store/connection.hpp"
#include "chatd/store/transaction.hpp"
#include "shapes.hpp"

namespace chatd::store {

// A named SQL statement, prepared once per connection on first use.
struct Statement {
  const char* name;
  const char* sql;
};

struct Connection::Impl {
  std::string url;
  std::unique_ptr<pqxx::connection> conn;
  std::unordered_set<std::string> prepared;
  std::chrono::steady_clock::time_point last_failure{};
  std::function<void(double)> observer;

  // Connected pqxx connection, connecting first if needed.
  pqxx::connection& get();
  void reset();
};

// A transaction in progress, with lazy preparation of named statements.
class Tx {
 public:
  Tx(Connection::Impl& impl, pqxx::transaction_base& work) : impl_(impl), work_(work) {}

  template <class... Args>
  pqxx::result exec(const Statement& s, Args&&... args) {
    if (impl_.prepared.insert(s.name).second) impl_.conn->prepare(s.name, s.sql);
    return work_.exec_prepared(s.name, std::forward<Args>(args)...);
  }
  pqxx::transaction_base& work() { return work_; }

 private:
  Connection::Impl& impl_;
  pqxx::transaction_base& work_;
};

// Either a read-committed transaction (BEGIN ... COMMIT) or, for a single
// read statement, none: the statement runs on its own (autocommit), which
// saves two round trips and still sees one snapshot.
struct Transaction::Impl {
  Impl(Connection::Impl& c, pqxx::connection& conn, bool single_statement) {
    if (single_statement) {
      single.emplace(conn);
      base = &*single;
    } else {
      work.emplace(conn);
      base = &*work;
    }
    tx.emplace(c, *base);
  }
  std::optional<pqxx::work> work;
  std::optional<pqxx::nontransaction> single;
  pqxx::transaction_base* base = nullptr;
  std::optional<Tx> tx;
};

// A PostgreSQL array literal of integers ("{1,2,3}"), for `$n::bigint[]`
// parameters (libpqxx 6 has no array parameters).
template <class T>
std::string int_array(const std::vector<T>& values) {
  std::string out = "{";
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i) out += ',';
    out += std::to_string(values[i]);
  }
  return out + "}";
}

// The Tx of a store::Transaction, for repository code.
inline Tx& tx_of(Transaction& t) { return *t.impl().tx; }

// True when an exception means the connection is unusable rather than that the
// statement was wrong.
bool is_connection_failure(const pqxx::sql_error& e);

}  // namespace chatd::store
