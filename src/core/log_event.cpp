#include "chatd/core/log_event.hpp"

#include <atomic>
#include <string>

#include <spdlog/fmt/fmt.h>
#include <spdlog/spdlog.h>

namespace chatd {

namespace {
std::atomic<bool> json_lines{false};

// Length of the valid UTF-8 sequence at s[i], or 0 when it is not one
// (overlong forms, surrogates and code points past U+10FFFF are invalid).
std::size_t utf8_length(std::string_view s, std::size_t i) {
  auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]); };
  auto cont = [&](std::size_t k) { return i + k < s.size() && (b(k) & 0xC0) == 0x80; };
  unsigned char c = b(0);
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (!cont(1) || !cont(2)) return 0;
    if (c == 0xE0 && b(1) < 0xA0) return 0;  // overlong
    if (c == 0xED && b(1) > 0x9F) return 0;  // surrogates
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (!cont(1) || !cont(2) || !cont(3)) return 0;
    if (c == 0xF0 && b(1) < 0x90) return 0;  // overlong
    if (c == 0xF4 && b(1) > 0x8F) return 0;  // past U+10FFFF
    return 4;
  }
  return 0;
}
}  // namespace

void append_json_escaped(std::string& out, std::string_view s) {
  static const char* hex = "0123456789abcdef";
  for (std::size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      std::size_t n = utf8_length(s, i);
      if (n == 0) {
        out += "\xEF\xBF\xBD";  // U+FFFD for the one bad byte
        ++i;
      } else {
        out.append(s.substr(i, n));
        i += n;
      }
      continue;
    }
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20 || c == 0x7F) {
          char buf[7] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15], 0};
          out.append(buf, 6);
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
    ++i;
  }
}

void set_structured_json(bool json) { json_lines = json; }

void log_event(spdlog::level::level_enum level, std::string_view event,
               std::initializer_list<LogField> fields) {
  auto logger = spdlog::default_logger_raw();
  if (!logger || !logger->should_log(level)) return;
  std::string line;
  line.reserve(256);
  if (json_lines.load(std::memory_order_relaxed)) {
    // The members after "thread": the formatter adds the braces and the rest.
    line.push_back(kJsonPayloadMarker);
    line += "\"msg\":\"";
    append_json_escaped(line, event);
    line.push_back('"');
    for (const auto& f : fields) {
      line += ",\"";
      line.append(f.key);
      line += "\":";
      if (auto* sv = std::get_if<std::string_view>(&f.value)) {
        line.push_back('"');
        append_json_escaped(line, *sv);
        line.push_back('"');
      } else if (auto* i = std::get_if<std::int64_t>(&f.value)) {
        line += std::to_string(*i);
      } else {
        line += fmt::format("{:.3f}", std::get<double>(f.value));
      }
    }
  } else {
    line.append(event);
    for (const auto& f : fields) {
      line.push_back(' ');
      line.append(f.key);
      line.push_back('=');
      if (auto* sv = std::get_if<std::string_view>(&f.value)) {
        line.append(*sv);
      } else if (auto* i = std::get_if<std::int64_t>(&f.value)) {
        line += std::to_string(*i);
      } else {
        line += fmt::format("{:.3f}", std::get<double>(f.value));
      }
    }
  }
  logger->log(level, spdlog::string_view_t(line.data(), line.size()));
}

}  // namespace chatd
