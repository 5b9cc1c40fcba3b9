// One PostgreSQL connection, owned by one worker thread of the DbPool. It
// connects lazily and reconnects after a loss; libpqxx stays behind the pimpl so
// that nothing above the store sees it.
#pragma once

#include <functional>
#include <memory>
#include <stdexcept>
#include <string>

#include "chatd/core/failures.hpp"

namespace chatd::store {

// Thrown when the database cannot be reached (see core/failures.hpp).
using chatd::Unavailable;

class Connection {
 public:
  explicit Connection(std::string url);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Told the seconds each transaction took on this connection (statements
  // and commit, every attempt), for the latency metric.
  void observe_transactions(std::function<void(double)> fn);

  struct Impl;  // defined in src/store/pg.hpp, used only by store sources
  Impl& impl() { return *impl_; }

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace chatd::store
