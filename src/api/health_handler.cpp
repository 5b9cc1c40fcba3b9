#include "chatd/api/health_handler.hpp"

#include <spdlog/spdlog.h>

#include "chatd/api/json_io.hpp"

namespace chatd::api {

Response HealthHandler::healthz(const http::Request&) {
  Response res;  // the same bytes as json_response(200, {{"status", "ok"}}), without building them
  res.status = 200;
  res.body = R"({"status":"ok"})";
  return res;
}

Task<Response> HealthHandler::readyz(Call) {
  // The contract's error shape; the message is the reason.
  auto not_ready = [](const std::string& reason) {
    return http::error_response(Error::unavailable(reason));
  };
  if (draining_.load()) co_return not_ready("shutting down");
  std::string problem;
  try {
    const auto* migrations = &migrations_;
    auto check = [migrations](store::Connection& c) {
      return store::schema_problem(c, *migrations);
    };
    problem = co_await db_.run<std::string>(check);
  } catch (const store::Unavailable& e) {
    co_return not_ready("database unreachable");
  } catch (const Overloaded&) {
    co_return not_ready("database pool overloaded");
  } catch (const std::exception& e) {
    spdlog::warn("readiness check failed: {}", e.what());
    co_return not_ready("database check failed");
  }
  if (!problem.empty()) co_return not_ready(problem);
  // Without LISTEN, sockets here would miss what other instances commit.
  if (listening_ && !listening_()) co_return not_ready("live delivery is not listening");
  co_return json_response(200, {{"status", "ready"}});
}

Response HealthHandler::metrics(const http::Request&) {
  http::Response res;
  res.content_type = "text/plain; version=0.0.4";
  res.body = metrics_.render();
  return res;
}

}  // namespace chatd::api
