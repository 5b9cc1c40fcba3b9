#include "chatd/http/router.hpp"

#include "chatd/http/message.hpp"

#include <stdexcept>

#include <boost/container/small_vector.hpp>

namespace chatd::http {

namespace {
// Inline for up to 8 segments (every route chatd has): matching a request
// allocates nothing.
using Segments = boost::container::small_vector<std::string_view, 8>;
Segments split_path(std::string_view path) {
  Segments out;
  if (path.empty() || path.front() != '/') return out;
  path.remove_prefix(1);
  for (;;) {
    auto slash = path.find('/');
    out.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return out;
}
bool is_placeholder(std::string_view seg) {
  return seg.size() >= 3 && seg.front() == '{' && seg.back() == '}';
}
}  // namespace

const std::string& PathParams::operator[](std::string_view name) const {
  for (const auto& [n, v] : values_) {
    if (n == name) return v;
  }
  throw std::logic_error("route has no path parameter {" + std::string(name) + "}");
}

std::size_t Router::add(std::string method, std::string pattern) {
  Route r;
  r.method = std::move(method);
  r.pattern = std::move(pattern);
  for (auto seg : split_path(r.pattern)) r.segments.emplace_back(seg);
  routes_.push_back(std::move(r));
  return routes_.size() - 1;
}

Router::Match Router::match(std::string_view method, std::string_view path) const {
  Match result;
  auto segments = split_path(path);
  if (segments.empty()) return result;
  for (std::size_t i = 0; i < routes_.size(); ++i) {
    const Route& r = routes_[i];
    if (r.segments.size() != segments.size()) continue;
    PathParams params;
    bool ok = true;
    for (std::size_t k = 0; k < segments.size() && ok; ++k) {
      const std::string& seg = r.segments[k];
      if (is_placeholder(seg)) {
        auto decoded = percent_decode(segments[k], false);
        ok = decoded && !decoded->empty();
        if (ok) params.add(seg.substr(1, seg.size() - 2), std::move(*decoded));
      } else {
        ok = r.segments[k] == segments[k];
      }
    }
    if (!ok) continue;
    if (r.method == method) {
      result.outcome = Outcome::found;
      result.route = i;
      result.params = std::move(params);
      result.allow.clear();
      return result;
    }
    result.outcome = Outcome::method_not_allowed;
    if (result.allow.find(r.method) == std::string::npos) {
      if (!result.allow.empty()) result.allow += ", ";
      result.allow += r.method;
    }
  }
  return result;
}

}  // namespace chatd::http
