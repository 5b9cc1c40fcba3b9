#include "chatd/store/db_pool.hpp"

namespace chatd::store {

namespace {
std::vector<std::unique_ptr<Connection>> make_connections(const std::string& url,
                                                          std::size_t n) {
  std::vector<std::unique_ptr<Connection>> v;
  for (std::size_t i = 0; i < n; ++i) v.push_back(std::make_unique<Connection>(url));
  return v;
}
}  // namespace

DbPool::DbPool(const std::string& url, std::size_t size, std::size_t max_queue)
    : connections_(make_connections(url, size)), workers_("db", size, max_queue) {}

DbPool::~DbPool() { stop(); }

void DbPool::stop() {
  workers_.stop();
  connections_.clear();
}

}  // namespace chatd::store
