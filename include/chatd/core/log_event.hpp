// Structured log lines. log_event("request", {{"id", id}, {"status", 200}})
// writes `request id=... status=200` in text logs and
// {"ts":...,"level":"info","thread":...,"msg":"request","id":"...","status":200}
// in JSON logs (--log-format json): each field its own key, so collectors
// need no parsing of `msg`.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <variant>

#include <spdlog/common.h>

namespace chatd {

struct LogField {
  std::string_view key;  // never ts, level, thread or msg
  std::variant<std::string_view, std::int64_t, double> value;
  LogField(std::string_view k, std::string_view v) : key(k), value(v) {}
  LogField(std::string_view k, const char* v) : key(k), value(std::string_view(v)) {}
  LogField(std::string_view k, int v) : key(k), value(static_cast<std::int64_t>(v)) {}
  LogField(std::string_view k, long v) : key(k), value(static_cast<std::int64_t>(v)) {}
  LogField(std::string_view k, long long v) : key(k), value(static_cast<std::int64_t>(v)) {}
  LogField(std::string_view k, unsigned v) : key(k), value(static_cast<std::int64_t>(v)) {}
  LogField(std::string_view k, double v) : key(k), value(v) {}
};

void log_event(spdlog::level::level_enum level, std::string_view event,
               std::initializer_list<LogField> fields);

// Chosen once at start-up by the logging setup: JSON lines or text.
void set_structured_json(bool json);

// The marker that starts a pre-rendered JSON payload; the JSON formatter
// splices such a payload's members into the line instead of quoting it.
inline constexpr char kJsonPayloadMarker = '\x1e';

// Appends s to out as the inside of a JSON string: quotes, backslashes and
// control characters escaped, and any byte sequence that is not valid UTF-8
// replaced by U+FFFD, so every line is valid UTF-8 JSON whatever a client sent.
void append_json_escaped(std::string& out, std::string_view s);

}  // namespace chatd
