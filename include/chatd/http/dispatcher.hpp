// Everything between a parsed request and its response that is the same for
// every route: request id, routing (404/405, OPTIONS and CORS), the handler call, mapping of
// overload and database loss to 503, a last-resort 500 that never leaks
// exception text, metrics and the access-log line.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "chatd/core/async.hpp"
#include "chatd/core/expected.hpp"
#include "chatd/core/metrics.hpp"
#include "chatd/http/cors.hpp"
#include "chatd/http/message.hpp"
#include "chatd/http/router.hpp"

namespace chatd::http {

using Handler = std::function<Task<Response>(Request, PathParams)>;

class Dispatcher {
 public:
  explicit Dispatcher(Metrics& metrics, Cors cors = {}) : metrics_(metrics), cors_(std::move(cors)) {}
  const Cors& cors() const { return cors_; }

  void route(std::string method, std::string pattern, Handler handler);
  // A route whose body the handler reads as it arrives (Request::body_source)
  // instead of the network layer reading it whole first, up to
  // ServerOptions::body_limit. `path` has no parameters.
  void route_streaming(std::string method, std::string path, Handler handler);
  // Whether a request to `target` is for a streaming route (asked by the
  // network layer once the header is in).
  bool streams_body(std::string_view method, std::string_view target) const;
  Task<Response> handle(Request request);
  // For requests the network layer refuses before they are complete (too
  // large, malformed): the same request id, metrics and access-log line.
  Response reject(const Request& partial, const Error& error);

 private:
  Task<Response> invoke(std::size_t route, Request request, PathParams params);
  // OPTIONS on a known path: a CORS preflight, or the path's methods.
  Response options(const Request& request, const std::string& allow) const;
  void finish(Response& response, const std::optional<std::string>& origin, const std::string& id,
              const std::string& method,
              const std::string& target, const std::string& route_label,
              std::chrono::steady_clock::time_point started);

  Metrics& metrics_;
  Cors cors_;
  Router router_;
  std::vector<Handler> handlers_;
  std::vector<std::pair<std::string, std::string>> streaming_;  // (method, path)
};

// A request id: the client's X-Request-Id when it is short and printable,
// otherwise a new random one.
std::string request_id_for(const Request& request);

}  // namespace chatd::http
