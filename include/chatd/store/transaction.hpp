// One database transaction, for domain operations that need several store
// calls to be atomic (check membership, lock, allocate seq, write the change
// and its event). Runs on a DbPool worker thread; libpqxx stays hidden.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

#include "chatd/store/connection.hpp"

namespace chatd::store {

class Transaction {
 public:
  struct Impl;  // src/store/pg.hpp
  explicit Transaction(std::unique_ptr<Impl> impl);
  ~Transaction();
  Impl& impl() { return *impl_; }

 private:
  std::unique_ptr<Impl> impl_;
};

// Makes the transaction read from one snapshot (repeatable read, read only):
// for reads that check membership and then read, so both see the same state.
// Must be the transaction's first call.
void use_snapshot(Transaction& tx);

// How a transaction runs. `write`: BEGIN ... COMMIT at read committed.
// `one_statement`: for a body that runs exactly one statement (a read): no
// BEGIN and COMMIT round trips; one statement sees one snapshot by itself.
enum class TxMode { write, one_statement };

namespace detail {
// body returns whether to commit.
void run_transaction(Connection& conn, TxMode mode, const std::function<bool(Transaction&)>& body);

template <class R>
bool commits(const R& result) {
  if constexpr (requires { result.ok(); }) {
    return result.ok();
  } else {
    return true;
  }
}
}  // namespace detail

// The one way to run a transaction: fn(Transaction&) runs in a new
// transaction and its result is returned. The transaction commits when fn
// returns, except that a result with ok() (an Expected) commits only when
// ok(): a refused operation rolls back whatever it wrote. An exception rolls
// back. Deadlocks and serialization failures re-run fn (up to 3 times in all);
// connection loss throws Unavailable.
template <class F>
auto transact(Connection& conn, F&& fn, TxMode mode = TxMode::write) {
  using R = decltype(fn(std::declval<Transaction&>()));
  if constexpr (std::is_void_v<R>) {
    detail::run_transaction(conn, mode, [&](Transaction& tx) {
      fn(tx);
      return true;
    });
  } else {
    std::optional<R> out;
    detail::run_transaction(conn, mode, [&](Transaction& tx) {
      out.emplace(fn(tx));
      return detail::commits(*out);
    });
    return std::move(*out);
  }
}

}  // namespace chatd::store
