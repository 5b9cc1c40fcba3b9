// JSON at the API edge: parsing request bodies into checked fields, and
// turning model types and results into responses.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "chatd/core/expected.hpp"
#include "chatd/http/errors.hpp"
#include "chatd/http/message.hpp"
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

http::Response json_response(int status, const Json& body);
http::Response no_content();

Json to_json(const model::User& user);

}  // namespace chatd::api
