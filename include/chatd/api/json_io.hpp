// JSON at the API edge: parsing request bodies into checked fields, and
// turning model types and results into responses.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "chatd/core/expected.hpp"
#include "chatd/http/errors.hpp"
#include "chatd/http/message.hpp"
#include "chatd/model/conversation.hpp"
#include "chatd/model/user.hpp"

namespace chatd::api {

using Json = nlohmann::json;

// The body as a JSON object; 400 for malformed JSON (including invalid UTF-8)
// or any other top-level type.
Expected<Json> parse_object(const http::Request& request);

// A required string field; 400 naming the field when absent or not a string.
Expected<std::string> string_field(const Json& body, const char* field);
// An optional string field: absent or null gives nullopt; other types are 400.
Expected<std::optional<std::string>> optional_string_field(const Json& body, const char* field);

// A required 64-bit integer field; 400 for other types, fractions and overflow.
Expected<std::int64_t> int_field(const Json& body, const char* field);
Expected<std::optional<std::int64_t>> optional_int_field(const Json& body, const char* field);

// A non-negative integer query parameter (a seq), absent allowed.
Expected<std::optional<std::int64_t>> seq_param(const http::Request& request, const char* name);

http::Response json_response(int status, const Json& body);
// A response whose body is already serialised JSON.
http::Response raw_json_response(int status, std::string body);
http::Response no_content();

Json to_json(const model::User& user);
Json to_json(const model::ConversationView& view, bool with_members);
// Messages and events are rendered by the database once; these splice that text.
std::string message_json(const model::Message& message);
std::string event_json(const model::Event& event);

}  // namespace chatd::api
