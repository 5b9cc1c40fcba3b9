#include "chatd/store/connection.hpp"

#include <spdlog/spdlog.h>

#include "pg.hpp"

namespace chatd::store {

namespace {
// After a failed connect, calls fail fast for this long instead of each one
// waiting on a dead server.
constexpr auto kReconnectBackoff = std::chrono::milliseconds(250);
}  // namespace

Connection::Connection(std::string url) : impl_(std::make_unique<Impl>()) {
  impl_->url = std::move(url);
}

Connection::~Connection() { impl_->reset(); }

void Connection::observe_transactions(std::function<void(double)> fn) {
  impl_->observer = std::move(fn);
}

pqxx::connection& Connection::Impl::get() {
  if (conn && conn->is_open()) return *conn;
  reset();
  auto now = std::chrono::steady_clock::now();
  if (now - last_failure < kReconnectBackoff) {
    throw Unavailable("database unreachable (retrying shortly)");
  }
  try {
    conn = std::make_unique<pqxx::connection>(url);
    // No JIT: chatd's statements are short OLTP reads and writes, but a
    // generic plan's cost estimate can pass jit_above_cost (the send's state
    // read, costed for a table scan it never runs), and then every execution
    // compiles its expressions first: 25-70 ms of LLVM for a statement that
    // runs in well under one (docs/performance.md, change 16).
    pqxx::nontransaction(*conn).exec("SET jit = off");
    return *conn;
  } catch (const std::exception& e) {
    last_failure = now;
    conn.reset();
    spdlog::warn("database connect failed: {}", e.what());
    throw Unavailable(std::string("database unreachable: ") + e.what());
  }
}

void Connection::Impl::reset() {
  if (conn) {
    try {
      conn->disconnect();
    } catch (...) {
    }
  }
  conn.reset();
  prepared.clear();
}

bool is_connection_failure(const pqxx::sql_error& e) {
  const std::string& state = e.sqlstate();
  // 08: connection exception; 57P01..57P03: admin/crash shutdown, cannot connect now.
  return state.rfind("08", 0) == 0 || state == "57P01" || state == "57P02" || state == "57P03";
}

}  // namespace chatd::store
