#include "chatd/http/cors.hpp"

#include <algorithm>
#include <cctype>

namespace chatd::http {

namespace {
std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Methods and headers a page may use (the conditional and partial GETs of
// attachments among them); the headers a page may read: Retry-After (the
// SDK reads retry_after from it), X-Request-Id, and a download's ETag,
// Content-Range and Accept-Ranges.
constexpr const char* kAllowHeaders =
    "Authorization, Content-Type, X-Request-Id, Range, If-None-Match, If-Range";
constexpr const char* kExposeHeaders =
    "Retry-After, X-Request-Id, ETag, Content-Range, Accept-Ranges";
constexpr const char* kMaxAge = "600";
}  // namespace

std::string origin_problem(std::string_view origin) {
  std::string o = lower(origin);
  std::string_view rest(o);
  if (rest.rfind("https://", 0) == 0) {
    rest.remove_prefix(8);
  } else if (rest.rfind("http://", 0) == 0) {
    rest.remove_prefix(7);
  } else {
    return "must start with http:// or https://";
  }
  const std::string shape = "must be scheme://host[:port] with nothing after (no path, no '*')";
  std::string_view host, after;
  if (!rest.empty() && rest.front() == '[') {  // an IPv6 literal
    auto close = rest.find(']');
    if (close == std::string_view::npos || close < 2) return shape;
    for (char c : rest.substr(1, close - 1)) {
      if (!std::isxdigit(static_cast<unsigned char>(c)) && c != ':' && c != '.') return shape;
    }
    host = rest.substr(0, close + 1);
    after = rest.substr(close + 1);
  } else {
    auto colon = rest.find(':');
    host = rest.substr(0, colon);
    after = colon == std::string_view::npos ? std::string_view() : rest.substr(colon);
    for (char c : host) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.') return shape;
    }
  }
  if (host.empty()) return "must name a host";
  if (after.empty()) return "";
  if (after.front() != ':') return shape;
  after.remove_prefix(1);
  if (after.empty() || after.size() > 5) return "port must be 1 to 65535";
  long port = 0;
  for (char c : after) {
    if (c < '0' || c > '9') return "port must be 1 to 65535";
    port = port * 10 + (c - '0');
  }
  if (port < 1 || port > 65535) return "port must be 1 to 65535";
  return "";
}

Cors::Cors(const std::vector<std::string>& origins) {
  for (const auto& o : origins) origins_.push_back(lower(o));
}

bool Cors::allows(std::string_view origin) const {
  if (origins_.empty()) return false;
  std::string o = lower(origin);
  return std::find(origins_.begin(), origins_.end(), o) != origins_.end();
}

bool Cors::is_preflight(const Request& request) {
  return request.method == "OPTIONS" && request.header("origin") &&
         request.header("access-control-request-method");
}

Response Cors::preflight(const std::string& origin, const std::string& allow) const {
  Response res;
  res.status = 204;
  res.content_type.clear();
  res.headers.emplace_back("Access-Control-Allow-Origin", origin);
  res.headers.emplace_back("Access-Control-Allow-Methods", allow);
  res.headers.emplace_back("Access-Control-Allow-Headers", kAllowHeaders);
  res.headers.emplace_back("Access-Control-Max-Age", kMaxAge);
  res.headers.emplace_back("Vary", "Origin");
  return res;
}

void Cors::decorate(const std::optional<std::string>& origin, Response& response) const {
  if (!origin || origins_.empty()) return;
  for (const auto& [name, value] : response.headers) {
    if (name == "Access-Control-Allow-Origin") return;  // a preflight answer already has them
  }
  response.headers.emplace_back("Vary", "Origin");
  if (!allows(*origin)) return;
  response.headers.emplace_back("Access-Control-Allow-Origin", *origin);
  response.headers.emplace_back("Access-Control-Expose-Headers", kExposeHeaders);
}

}  // namespace chatd::http
