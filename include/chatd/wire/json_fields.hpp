// Reading JSON objects the clients send, over REST and WebSocket alike: typed
// fields with errors in the contract's shape (400 `invalid_request` naming the
// field). No HTTP here.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "chatd/core/expected.hpp"

namespace chatd::wire {

using Json = nlohmann::json;

// `text` as a JSON object; an error for malformed JSON (including invalid
// UTF-8) or any other top-level type. `what` names it ("body", "frame").
Expected<Json> parse_object(std::string_view text, std::string_view what = "body");

// A required string field; an error naming the field when absent, null or not a string.
Expected<std::string> string_field(const Json& object, const char* field);
// An optional string field: absent or null gives nullopt; other types are errors.
Expected<std::optional<std::string>> optional_string_field(const Json& object, const char* field);

// A required 64-bit integer field; errors for other types, fractions and overflow.
Expected<std::int64_t> int_field(const Json& object, const char* field);
Expected<std::optional<std::int64_t>> optional_int_field(const Json& object, const char* field);
// An optional boolean field: absent gives nullopt; null and other types are errors.
Expected<std::optional<bool>> optional_bool_field(const Json& object, const char* field);

}  // namespace chatd::wire
