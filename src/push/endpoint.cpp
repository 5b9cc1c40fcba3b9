#include "chatd/push/endpoint.hpp"

#include <charconv>

namespace chatd::push {

Expected<Endpoint> parse_endpoint(const std::string& url) {
  const std::string scheme = "http://";
  if (url.rfind("https://", 0) == 0) {
    return Error::invalid("must be an http:// URL (https is not supported: put a TLS proxy beside chatd)");
  }
  if (url.rfind(scheme, 0) != 0) return Error::invalid("must be an http:// URL");
  std::string rest = url.substr(scheme.size());
  auto slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  Endpoint e;
  if (slash != std::string::npos) e.target = rest.substr(slash);
  for (char c : url) {
    if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f) return Error::invalid("must not hold spaces or control characters");
  }
  if (e.target.find('#') != std::string::npos) return Error::invalid("must not have a fragment");
  if (authority.find('@') != std::string::npos) return Error::invalid("must not hold user info");
  std::string host = authority;
  if (!authority.empty() && authority.front() == '[') {  // [IPv6]:port
    auto close = authority.find(']');
    if (close == std::string::npos) return Error::invalid("has an unclosed IPv6 address");
    host = authority.substr(1, close - 1);
    std::string after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return Error::invalid("has junk after the IPv6 address");
      authority = after;  // ":port"
    } else {
      authority.clear();
    }
  } else if (auto colon = authority.rfind(':'); colon != std::string::npos) {
    host = authority.substr(0, colon);
    authority = authority.substr(colon);
  } else {
    authority.clear();
  }
  if (host.empty()) return Error::invalid("must name a host");
  e.host = host;
  if (!authority.empty()) {
    std::string digits = authority.substr(1);
    unsigned port = 0;
    auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
    if (digits.empty() || ec != std::errc() || ptr != digits.data() + digits.size() || port < 1 ||
        port > 65535) {
      return Error::invalid("port must be an integer from 1 to 65535");
    }
    e.port = static_cast<std::uint16_t>(port);
  }
  return e;
}

}  // namespace chatd::push
