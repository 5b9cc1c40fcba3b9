// Where push jobs go: the --push-webhook URL, parsed once at start.
#pragma once

#include <cstdint>
#include <string>

#include "chatd/core/expected.hpp"

namespace chatd::push {

struct Endpoint {
  std::string host;
  std::uint16_t port = 80;
  std::string target = "/";  // path and query
};

// `http://host[:port][/path]`. HTTPS is refused (chatd speaks plain HTTP to
// a gateway beside it; put a TLS proxy in between for a remote one), and so
// are user info, fragments and anything malformed: the message says why.
Expected<Endpoint> parse_endpoint(const std::string& url);

}  // namespace chatd::push
