// Everything between a parsed request and its response that is the same for
// every route: request id, routing (404/405, OPTIONS and CORS), the handler call, mapping of
// overload and database loss to 503, a last-resort 500 that never leaks
// exception text, metrics and the access-log line.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "chatd/core/async.hpp"
#include "chatd/core/expected.hpp"
#include "chatd/core/metrics.hpp"
#include "chatd/http/cors.hpp"
#include "chatd/http/message.hpp"
#include "chatd/http/router.hpp"

namespace chatd::http {

using Handler = std::function<Task<Response>(Request, PathParams)>;
// A handler that answers at once: no database, no I/O, nothing that waits
// (it runs on the IO thread). It costs no coroutine frame.
using ImmediateHandler = std::function<Response(const Request&, const PathParams&)>;

// A request's answer: ready at once, or the awaitable of its handler.
using Dispatched = std::variant<Response, Task<Response>>;

class Dispatcher {
 public:
  explicit Dispatcher(Metrics& metrics, Cors cors = {}) : metrics_(metrics), cors_(std::move(cors)) {}
  const Cors& cors() const { return cors_; }

  void route(std::string method, std::string pattern, Handler handler);
  // A route whose body the handler reads as it arrives (Request::body_source)
  // instead of the network layer reading it whole first, up to
  // ServerOptions::body_limit. `path` has no parameters.
  void route_streaming(std::string method, std::string path, Handler handler);
  // A route whose handler answers without waiting (/healthz, /metrics).
  void route_now(std::string method, std::string pattern, ImmediateHandler handler);
  // Whether a request to `target` is for a streaming route (asked by the
  // network layer once the header is in).
  bool streams_body(std::string_view method, std::string_view target) const;
  // Routes `request` and answers it when that needs no waiting (a request no
  // route takes, 405, OPTIONS, a route_now handler); otherwise returns the
  // handler's awaitable, which finishes the answer (metrics, log) itself.
  Dispatched dispatch(Request request);
  // dispatch(), awaited.
  Task<Response> handle(Request request);
  // For requests the network layer refuses before they are complete (too
  // large, malformed): the same request id, metrics and access-log line.
  Response reject(const Request& partial, const Error& error);

 private:
  // What finish() needs of a request whose handler took it.
  struct Started {
    std::chrono::steady_clock::time_point at;
    std::optional<std::string> origin;
    std::string id, method, target;
    std::size_t route;
  };
  Task<Response> complete(Request request, PathParams params, Started started);
  // OPTIONS on a known path: a CORS preflight, or the path's methods.
  Response options(const Request& request, const std::string& allow) const;
  void finish(Response& response, const std::optional<std::string>& origin, const std::string& id,
              const std::string& method, const std::string& target,
              std::string_view route_label, std::chrono::steady_clock::time_point started);

  Metrics& metrics_;
  Cors cors_;
  Router router_;
  // By route id: one of the two is set.
  struct Route {
    Handler wait;
    ImmediateHandler now;
  };
  std::vector<Route> handlers_;
  std::vector<std::pair<std::string, std::string>> streaming_;  // (method, path)
};

// A request id: the client's X-Request-Id when it is short and printable,
// otherwise a new random one.
std::string request_id_for(const Request& request);

}  // namespace chatd::http
