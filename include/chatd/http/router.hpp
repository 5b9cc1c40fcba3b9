// The route table: (method, path pattern) → route id. Patterns are literal
// segments and `{name}` placeholders matching one non-empty segment. The first
// matching route wins; when only the method is wrong the result lists the
// allowed methods for a 405 with `Allow`.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace chatd::http {

// The placeholder values of a matched route, percent-decoded, by name.
class PathParams {
 public:
  void add(std::string name, std::string value) {
    values_.emplace_back(std::move(name), std::move(value));
  }
  // The value of `{name}`. Asking for a name the route does not have is a
  // programming error: std::logic_error (a 500, and a failing test).
  const std::string& operator[](std::string_view name) const;
  std::size_t size() const { return values_.size(); }
  bool empty() const { return values_.empty(); }

 private:
  std::vector<std::pair<std::string, std::string>> values_;
};

class Router {
 public:
  enum class Outcome { found, not_found, method_not_allowed };

  struct Match {
    Outcome outcome = Outcome::not_found;
    std::size_t route = 0;
    PathParams params;
    std::string allow;                // for method_not_allowed: "GET, POST"
  };

  // Returns the route id (its index in the order added).
  std::size_t add(std::string method, std::string pattern);
  Match match(std::string_view method, std::string_view path) const;
  const std::string& pattern(std::size_t route) const { return routes_[route].pattern; }
  std::size_t size() const { return routes_.size(); }

 private:
  struct Route {
    std::string method;
    std::string pattern;
    std::vector<std::string> segments;  // a placeholder is "{name}"
  };
  std::vector<Route> routes_;
};

}  // namespace chatd::http
