// JSON at the REST edge: request bodies through the wire parsers, query
// parameters, and responses. What is parsed and rendered is in wire/, shared
// with the WebSocket front.
#pragma once

#include <optional>
#include <string>

#include "chatd/core/expected.hpp"
#include "chatd/http/errors.hpp"
#include "chatd/http/message.hpp"
#include "chatd/wire/bodies.hpp"
#include "chatd/wire/json_fields.hpp"
#include "chatd/wire/render.hpp"

namespace chatd::api {

using Json = nlohmann::json;
using wire::event_json;
using wire::message_json;
using wire::to_json;

// The request body through one of wire/bodies.hpp's parsers: 400 for
// malformed JSON (including invalid UTF-8), any other top-level type, or
// what the parser refuses.
template <class T>
Expected<T> parse_body(const http::Request& request, Expected<T> (*parse)(const Json&)) {
  auto object = wire::parse_object(request.body);
  if (!object) return object.error();
  return parse(*object);
}

// A non-negative integer query parameter (a seq), absent allowed.
Expected<std::optional<std::int64_t>> seq_param(const http::Request& request, const char* name);

http::Response json_response(int status, const Json& body);
// A response whose body is already serialised JSON.
http::Response raw_json_response(int status, std::string body);
http::Response no_content();

}  // namespace chatd::api
