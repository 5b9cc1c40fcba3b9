// One database transaction, for domain operations that need several store
// calls to be atomic (check membership, lock, allocate seq, write the change
// and its event). Runs on a DbPool worker thread; libpqxx stays hidden.
#pragma once

#include <functional>
#include <memory>
#include <optional>
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

// Runs body in a new read-committed transaction; commits when body returns
// true, rolls back otherwise. Deadlocks and serialization failures re-run the
// body (up to 3 times); connection loss throws Unavailable.
void run_transaction(Connection& conn, const std::function<bool(Transaction&)>& body);

// For a body that runs exactly one statement (a read): no BEGIN and COMMIT
// round trips; one statement sees one snapshot by itself. Same errors as
// run_transaction.
void run_single_statement(Connection& conn, const std::function<bool(Transaction&)>& body);

// fn: R(Transaction&) where R has ok(): commits on ok(), rolls back otherwise.
template <class F>
auto in_transaction(Connection& conn, F&& fn) {
  using R = decltype(fn(std::declval<Transaction&>()));
  std::optional<R> out;
  run_transaction(conn, [&](Transaction& tx) {
    out.emplace(fn(tx));
    return out->ok();
  });
  return std::move(*out);
}

// in_transaction for a body of exactly one statement (see run_single_statement).
template <class F>
auto in_single_statement(Connection& conn, F&& fn) {
  using R = decltype(fn(std::declval<Transaction&>()));
  std::optional<R> out;
  run_single_statement(conn, [&](Transaction& tx) {
    out.emplace(fn(tx));
    return true;
  });
  return std::move(*out);
}

}  // namespace chatd::store
