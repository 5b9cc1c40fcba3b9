#include "chatd/store/transaction.hpp"

#include <spdlog/spdlog.h>

#include "pg.hpp"

namespace chatd::store {

Transaction::Transaction(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Transaction::~Transaction() = default;

namespace {
bool retryable(const pqxx::sql_error& e) {
  return e.sqlstate() == "40P01" || e.sqlstate() == "40001";
}
}  // namespace

void use_snapshot(Transaction& tx) {
  tx.impl().base->exec("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY");
}

namespace {
void run(Connection& conn, bool single_statement, const std::function<bool(Transaction&)>& body) {
  auto& impl = conn.impl();
  // Times each attempt on a connected connection, however it ends.
  struct Timed {
    const std::function<void(double)>& observer;
    std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
    ~Timed() {
      if (!observer) return;
      try {
        observer(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
      } catch (...) {  // never from a destructor, maybe during unwinding
      }
    }
  };
  for (int attempt = 1;; ++attempt) {
    try {
      auto& pq = impl.get();
      Timed timed{impl.observer};
      Transaction tx(std::make_unique<Transaction::Impl>(impl, pq, single_statement));
      if (body(tx)) tx.impl().base->commit();
      return;  // not committed: the work's destructor rolls back
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
      if (retryable(e) && attempt < 3) {
        spdlog::debug("transaction retry {} after {}", attempt, e.sqlstate());
        continue;
      }
      throw;
    }
  }
}
}  // namespace

namespace detail {
void run_transaction(Connection& conn, TxMode mode, const std::function<bool(Transaction&)>& body) {
  run(conn, mode == TxMode::one_statement, body);
}
}  // namespace detail

}  // namespace chatd::store
