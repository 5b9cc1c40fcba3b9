// Private to the store: libpqxx access, named prepared statements and the
// transaction wrapper that turns connection loss into store::Unavailable.
#pragma once

#include <chrono>
#include <string>
#include <unordered_set>

#include <pqxx/pqxx>

#include "chatd/store/connection.hpp"
#include "chatd/store/transaction.hpp"

namespace chatd::store {

// A named SQL statement, prepared once per connection on first use.
struct Statement {
  const char* name;
  const char* sql;
};

// Milliseconds since the epoch of a timestamptz column, for model types.
#define CHATD_SQL_MS(col) "floor(extract(epoch from " col ") * 1000)::bigint"

struct Connection::Impl {
  std::string url;
  std::unique_ptr<pqxx::connection> conn;
  std::unordered_set<std::string> prepared;
  std::chrono::steady_clock::time_point last_failure{};

  // Connected pqxx connection, connecting first if needed.
  pqxx::connection& get();
  void reset();
};

// A transaction in progress, with lazy preparation of named statements.
class Tx {
 public:
  Tx(Connection::Impl& impl, pqxx::work& work) : impl_(impl), work_(work) {}

  template <class... Args>
  pqxx::result exec(const Statement& s, Args&&... args) {
    if (impl_.prepared.insert(s.name).second) impl_.conn->prepare(s.name, s.sql);
    return work_.exec_prepared(s.name, std::forward<Args>(args)...);
  }
  pqxx::work& work() { return work_; }

 private:
  Connection::Impl& impl_;
  pqxx::work& work_;
};

struct Transaction::Impl {
  Impl(Connection::Impl& c, pqxx::connection& conn) : work(conn), tx(c, work) {}
  pqxx::work work;
  Tx tx;
};

// The Tx of a store::Transaction, for repository code.
inline Tx& tx_of(Transaction& t) { return t.impl().tx; }

// True when an exception means the connection is unusable rather than that the
// statement was wrong.
bool is_connection_failure(const pqxx::sql_error& e);

// Runs fn(Tx&) in one read-committed transaction and commits it.
template <class F>
auto transact(Connection& c, F&& fn) {
  auto& impl = c.impl();
  try {
    pqxx::work work(impl.get());
    Tx tx(impl, work);
    auto result = fn(tx);
    work.commit();
    return result;
  } catch (const pqxx::broken_connection& e) {
    impl.reset();
    throw Unavailable(std::string("database connection lost: ") + e.what());
  } catch (const pqxx::in_doubt_error& e) {
    impl.reset();
    throw Unavailable(std::string("commit outcome unknown: ") + e.what());
  } catch (const pqxx::sql_error& e) {
    if (is_connection_failure(e) || !impl.conn || !impl.conn->is_open()) {
      impl.reset();
      throw Unavailable(std::string("database unavailable: ") + e.what());
    }
    throw;
  }
}

}  // namespace chatd::store
