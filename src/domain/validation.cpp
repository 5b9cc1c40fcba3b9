#include "chatd/domain/validation.hpp"

#include <charconv>

#include <nlohmann/json.hpp>

namespace chatd::domain {

std::optional<std::size_t> utf8_length(std::string_view s) {
  std::size_t count = 0;
  std::size_t i = 0;
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const std::size_t n = s.size();
  while (i < n) {
    unsigned char c = p[i];
    std::size_t len;
    std::uint32_t cp;
    if (c < 0x80) {
      ++i;
      ++count;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return std::nullopt;
    }
    if (i + len > n) return std::nullopt;
    for (std::size_t k = 1; k < len; ++k) {
      if ((p[i + k] & 0xC0) != 0x80) return std::nullopt;
      cp = (cp << 6) | (p[i + k] & 0x3F);
    }
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      return std::nullopt;
    }
    i += len;
    ++count;
  }
  return count;
}

std::string username_problem(std::string_view u) {
  if (u.size() < 3 || u.size() > 32) return "username must be 3 to 32 characters";
  for (char c : u) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.';
    if (!ok) return "username may contain only a-z, 0-9, '_' and '.'";
  }
  return "";
}

std::string password_problem(std::string_view p) {
  if (p.size() < 8 || p.size() > 256) return "password must be 8 to 256 bytes";
  return "";
}

std::string display_name_problem(std::string_view d) {
  auto len = utf8_length(d);
  if (!len) return "display_name must be valid UTF-8";
  if (*len < 1 || *len > 64) return "display_name must be 1 to 64 characters";
  for (std::size_t i = 0; i < d.size(); ++i) {
    auto c = static_cast<unsigned char>(d[i]);
    // C0, DEL, and C1 (U+0080..U+009F, encoded C2 80..C2 9F).
    bool c1 = c == 0xC2 && i + 1 < d.size() && static_cast<unsigned char>(d[i + 1]) <= 0x9F;
    if (c < 0x20 || c == 0x7F || c1) return "display_name must not contain control characters";
  }
  return "";
}

namespace {
bool has_control(std::string_view s) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    bool c1 = c == 0xC2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) <= 0x9F;
    if (c < 0x20 || c == 0x7F || c1) return true;
  }
  return false;
}
}  // namespace

std::string message_body_problem(std::string_view body, bool may_be_empty) {
  auto len = utf8_length(body);
  if (!len) return "body must be valid UTF-8";
  if (*len > 4000 || (*len < 1 && !may_be_empty)) {
    return may_be_empty ? "body must be 0 to 4000 characters"
                        : "body must be 1 to 4000 characters";
  }
  if (body.find('\0') != std::string_view::npos) return "body must not contain U+0000";
  return "";
}

std::string attachments_problem(const std::vector<std::int64_t>& ids) {
  if (ids.size() > 10) return "attachments must hold at most 10 attachment ids";
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (ids[i] < 1) return "attachments must hold positive attachment ids";
    for (std::size_t j = 0; j < i; ++j) {
      if (ids[j] == ids[i]) return "attachments must not name an attachment twice";
    }
  }
  return "";
}

std::string share_problem(const model::Share& share) {
  if (share.kind != "video" && share.kind != "profile" && share.kind != "link") {
    return "share.kind must be video, profile or link";
  }
  auto ref = utf8_length(share.ref);
  if (!ref || *ref < 1 || *ref > 512 || has_control(share.ref)) {
    return "share.ref must be 1 to 512 characters of valid UTF-8 without control characters";
  }
  if (share.kind == "link") {
    constexpr std::string_view scheme = "https://";
    std::string_view r = share.ref;
    if (r.size() <= scheme.size() || r.substr(0, scheme.size()) != scheme ||
        r.find_first_of(" \t") != std::string_view::npos || r[scheme.size()] == '/') {
      return "share.ref of a link must be an https:// URL";
    }
  }
  auto title = utf8_length(share.title);
  if (!title || *title > 200 || has_control(share.title)) {
    return "share.title must be 0 to 200 characters of valid UTF-8 without control characters";
  }
  return "";
}

bool carries_media(const model::Message& message) {
  auto j = nlohmann::json::parse(message.json, nullptr, false);
  if (!j.is_object()) return false;
  auto a = j.find("attachments");
  auto s = j.find("share");
  return (a != j.end() && a->is_array() && !a->empty()) || (s != j.end() && !s->is_null());
}

std::string client_msg_id_problem(std::string_view id) {
  if (id.empty() || id.size() > 64) return "client_msg_id must be 1 to 64 characters";
  for (char c : id) {
    if (c <= 0x20 || c >= 0x7F) return "client_msg_id must be visible ASCII characters";
  }
  return "";
}

std::string emoji_problem(std::string_view emoji) {
  if (emoji.empty() || emoji.size() > 64) return "emoji must be 1 to 64 bytes";
  if (!utf8_length(emoji)) return "emoji must be valid UTF-8";
  if (has_control(emoji) || emoji.find(' ') != std::string_view::npos) {
    return "emoji must not contain spaces or control characters";
  }
  return "";
}

std::string timestamp_problem(std::string_view t) {
  const std::string shape = "must be an RFC 3339 time such as 2026-12-24T18:00:00Z";
  auto digits = [&](std::size_t at, std::size_t n, int& out) {
    if (at + n > t.size()) return false;
    out = 0;
    for (std::size_t i = at; i < at + n; ++i) {
      if (t[i] < '0' || t[i] > '9') return false;
      out = out * 10 + (t[i] - '0');
    }
    return true;
  };
  int year, month, day, hour, minute, second;
  if (t.size() < 20 || !digits(0, 4, year) || t[4] != '-' || !digits(5, 2, month) || t[7] != '-' ||
      !digits(8, 2, day) || t[10] != 'T' || !digits(11, 2, hour) || t[13] != ':' ||
      !digits(14, 2, minute) || t[16] != ':' || !digits(17, 2, second)) {
    return shape;
  }
  std::size_t at = 19;
  if (at < t.size() && t[at] == '.') {
    std::size_t start = ++at;
    while (at < t.size() && t[at] >= '0' && t[at] <= '9') ++at;
    if (at == start || at - start > 9) return shape;
  }
  if (at >= t.size()) return shape;
  if (t[at] == 'Z') {
    if (at + 1 != t.size()) return shape;
  } else if (t[at] == '+' || t[at] == '-') {
    int zh, zm;
    if (at + 6 != t.size() || !digits(at + 1, 2, zh) || t[at + 3] != ':' || !digits(at + 4, 2, zm) ||
        zh > 23 || zm > 59) {
      return shape;
    }
  } else {
    return shape;
  }
  static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  if (year < 1970 || month < 1 || month > 12 || day < 1 ||
      day > days[month - 1] + (month == 2 && leap ? 1 : 0) || hour > 23 || minute > 59 || second > 59) {
    return "must be a real time from 1970 to 9999";
  }
  return "";
}

std::string title_problem(std::string_view title) {
  auto len = utf8_length(title);
  if (!len) return "title must be valid UTF-8";
  if (*len < 1 || *len > 100) return "title must be 1 to 100 characters";
  if (has_control(title)) return "title must not contain control characters";
  return "";
}

namespace {
std::optional<std::int64_t> parse_int(std::string_view raw) {
  if (raw.empty() || raw.size() > 19) return std::nullopt;
  for (char c : raw) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  std::int64_t v = 0;
  auto [ptr, ec] = std::from_chars(raw.data(), raw.data() + raw.size(), v);
  if (ec != std::errc() || ptr != raw.data() + raw.size()) return std::nullopt;
  return v;
}
}  // namespace

Expected<int> parse_limit(const std::optional<std::string>& raw, int default_limit,
                          int max_limit) {
  if (!raw) return default_limit;
  auto v = parse_int(*raw);
  if (!v || *v < 1 || *v > max_limit) {
    return Error::invalid("limit must be an integer from 1 to " + std::to_string(max_limit));
  }
  return static_cast<int>(*v);
}

Expected<std::int64_t> parse_id(std::string_view raw, std::string_view what) {
  auto v = parse_int(raw);
  if (!v || *v < 1) return Error::invalid(std::string(what) + " must be a positive integer");
  return *v;
}

}  // namespace chatd::domain
