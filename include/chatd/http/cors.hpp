// Browsers on other origins (API.md, Conventions, "Browsers"): which origins
// may call chatd, the preflight answer, the headers every answer to an allowed
// origin carries, and the WebSocket Origin check. Origins are compared as
// browsers serialise them (scheme://host[:port], lower case); there is no
// wildcard, so the answer never says `*`.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "chatd/http/message.hpp"

namespace chatd::http {

class Cors {
 public:
  Cors() = default;  // no origin allowed: CORS off
  // Each must pass origin_problem; they are kept in lower case.
  explicit Cors(const std::vector<std::string>& origins);

  bool allows(std::string_view origin) const;
  // A WebSocket upgrade is refused when it names an origin not allowed; one
  // without Origin (a native app) is not checked.
  bool refuses_socket(const std::optional<std::string>& origin) const {
    return origin && !allows(*origin);
  }
  // A CORS preflight: OPTIONS with Origin and Access-Control-Request-Method.
  static bool is_preflight(const Request& request);
  // The 204 answer to an allowed preflight; `allow` lists the path's methods.
  Response preflight(const std::string& origin, const std::string& allow) const;
  // Adds Access-Control-Allow-Origin (and what goes with it) when `origin` is
  // allowed; Vary: Origin whenever an Origin was sent and CORS is on, so a
  // cache never serves one origin's answer to another.
  void decorate(const std::optional<std::string>& origin, Response& response) const;

 private:
  std::vector<std::string> origins_;
};

// Empty when `origin` is a browser origin chatd can allow: http or https,
// a host, an optional port, nothing else (no path, no trailing slash, no
// `*`, not `null`). Otherwise what is wrong.
std::string origin_problem(std::string_view origin);

}  // namespace chatd::http
