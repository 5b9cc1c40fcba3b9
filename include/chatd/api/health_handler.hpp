// Operator endpoints: /healthz (process serves), /readyz (database reachable,
// schema current, the LISTEN connection for live delivery up, not draining),
// /metrics (Prometheus text).
#pragma once

#include <atomic>
#include <functional>
#include <vector>

#include "chatd/core/metrics.hpp"
#include "chatd/api/call.hpp"
#include "chatd/store/db_pool.hpp"
#include "chatd/store/migrations.hpp"

namespace chatd::api {

class HealthHandler {
 public:
  // `listening`: whether live delivery hears other instances (LISTEN is up).
  HealthHandler(store::DbPool& db, std::vector<store::Migration> migrations, Metrics& metrics,
                const std::atomic<bool>& draining, std::function<bool()> listening)
      : db_(db),
        migrations_(std::move(migrations)),
        metrics_(metrics),
        draining_(draining),
        listening_(std::move(listening)) {}
  // Routes: see src/api/routes.cpp. healthz and metrics answer at once.
  Response healthz(const http::Request& request);
  Task<Response> readyz(Call call);
  Response metrics(const http::Request& request);

 private:
  store::DbPool& db_;
  const std::vector<store::Migration> migrations_;
  Metrics& metrics_;
  const std::atomic<bool>& draining_;
  std::function<bool()> listening_;
};

}  // namespace chatd::api
