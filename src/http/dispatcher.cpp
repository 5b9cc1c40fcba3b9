#include "chatd/http/dispatcher.hpp"

#include <atomic>
#include <chrono>
#include <random>

#include <spdlog/spdlog.h>

#include "chatd/core/log_event.hpp"

#include "chatd/http/errors.hpp"
#include "chatd/core/failures.hpp"

namespace chatd::http {

void Dispatcher::route(std::string method, std::string pattern, Handler handler) {
  router_.add(std::move(method), std::move(pattern));
  handlers_.push_back({std::move(handler), {}});
}

void Dispatcher::route_now(std::string method, std::string pattern, ImmediateHandler handler) {
  router_.add(std::move(method), std::move(pattern));
  handlers_.push_back({{}, std::move(handler)});
}

void Dispatcher::route_streaming(std::string method, std::string path, Handler handler) {
  streaming_.emplace_back(method, path);
  route(std::move(method), std::move(path), std::move(handler));
}

bool Dispatcher::streams_body(std::string_view method, std::string_view target) const {
  auto path = target.substr(0, target.find('?'));
  for (const auto& [m, p] : streaming_) {
    if (m == method && p == path) return true;
  }
  return false;
}

std::string request_id_for(const Request& request) {
  if (auto given = request.header("x-request-id")) {
    bool ok = !given->empty() && given->size() <= 128;
    for (char c : *given) ok = ok && c > 0x20 && c < 0x7F;
    if (ok) return *given;
  }
  // A per-thread random prefix and a counter: unique and cheap.
  thread_local std::uint64_t prefix = std::random_device{}() ^
                                      (static_cast<std::uint64_t>(std::random_device{}()) << 32);
  thread_local std::uint64_t counter = 0;
  // 16 hex digits of the prefix, 8 of the counter (no snprintf: it showed
  // in /healthz profiles).
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id(24, '0');
  std::uint64_t p = prefix;
  for (int i = 15; i >= 0; --i, p >>= 4) id[static_cast<std::size_t>(i)] = kHex[p & 0xF];
  std::uint64_t c = ++counter & 0xffffffffULL;
  for (int i = 23; i >= 16; --i, c >>= 4) id[static_cast<std::size_t>(i)] = kHex[c & 0xF];
  return id;
}

Dispatched Dispatcher::dispatch(Request request) {
  auto started = std::chrono::steady_clock::now();
  request.request_id = request_id_for(request);
  auto origin = request.header("origin");

  // Set by one branch below (not default-constructed first: a Response's
  // default content type is a heap string, one allocation per request).
  std::optional<Response> response;
  std::string_view route_label = "unmatched";
  Router::Match match;
  if (!parse_target(request.target, request.path, request.query)) {
    match.outcome = Router::Outcome::not_found;
    request.path.clear();
  } else {
    match = router_.match(request.method, request.path);
  }
  switch (match.outcome) {
    case Router::Outcome::not_found:
      response = request.path.empty()
                     ? error_response(Error::invalid("malformed percent-encoding in the query"))
                     : error_response(Error::not_found("no route for " + request.path));
      break;
    case Router::Outcome::method_not_allowed:
      if (request.method == "OPTIONS") {
        route_label = "options";
        response = options(request, match.allow);
        break;
      }
      route_label = "method_not_allowed";
      response = error_response({ErrorKind::method_not_allowed, "method_not_allowed",
                                 request.method + " is not allowed here"});
      response->headers.emplace_back("Allow", match.allow);
      break;
    case Router::Outcome::found: {
      const Route& route = handlers_[match.route];
      if (!route.now) {
        Started s{started, std::move(origin), request.request_id, request.method, request.target,
                  match.route};
        return complete(std::move(request), std::move(match.params), std::move(s));
      }
      route_label = router_.pattern(match.route);
      try {
        response = route.now(request, match.params);
      } catch (...) {
        response = error_response(
            error_for_failure(std::current_exception(), "request " + request.request_id));
      }
      break;
    }
  }
  finish(*response, origin, request.request_id, request.method, request.target, route_label,
         started);
  return std::move(*response);
}

// One coroutine frame per request that waits: the handler's call, its
// failure mapped to an answer, and finish().
Task<Response> Dispatcher::complete(Request request, PathParams params, Started started) {
  Response response;
  try {
    response = co_await handlers_[started.route].wait(std::move(request), std::move(params));
  } catch (...) {
    response = error_response(error_for_failure(std::current_exception(), "request " + started.id));
  }
  finish(response, started.origin, started.id, started.method, started.target,
         router_.pattern(started.route), started.at);
  co_return response;
}

Task<Response> Dispatcher::handle(Request request) {
  Dispatched dispatched = dispatch(std::move(request));
  if (auto* ready = std::get_if<Response>(&dispatched)) co_return std::move(*ready);
  co_return co_await std::move(std::get<Task<Response>>(dispatched));
}

Response Dispatcher::reject(const Request& partial, const Error& error) {
  auto started = std::chrono::steady_clock::now();
  Response response = error_response(error);
  response.close = true;
  finish(response, partial.header("origin"), request_id_for(partial),
         partial.method.empty() ? "-" : partial.method,
         partial.target.empty() ? "-" : partial.target, "rejected", started);
  return response;
}

Response Dispatcher::options(const Request& request, const std::string& allow) const {
  if (Cors::is_preflight(request)) {
    auto origin = *request.header("origin");
    if (!cors_.allows(origin)) {
      return error_response(Error::forbidden("forbidden", "this origin may not call chatd"));
    }
    return cors_.preflight(origin, allow);
  }
  Response res;
  res.status = 204;
  res.content_type.clear();
  res.headers.emplace_back("Allow", allow + ", OPTIONS");
  return res;
}

void Dispatcher::finish(Response& response, const std::optional<std::string>& origin,
                        const std::string& id, const std::string& method,
                        const std::string& target, std::string_view route_label,
                        std::chrono::steady_clock::time_point started) {
  response.headers.emplace_back("X-Request-Id", id);
  cors_.decorate(origin, response);
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  metrics_.observe_request(route_label, method, response.status, seconds);
  log_event(spdlog::level::info, "request",
            {{"id", id},
             {"method", method},
             {"target", target},
             {"route", route_label},
             {"status", response.status},
             {"duration_ms", seconds * 1000.0}});
}

}  // namespace chatd::http
