#include "chatd/http/ranges.hpp"

#include <charconv>

namespace chatd::http {

namespace {
std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::optional<std::uint64_t> number(std::string_view s) {
  if (s.empty() || s.size() > 19) return std::nullopt;
  std::uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}
}  // namespace

bool none_match(std::string_view value, std::string_view etag) {
  value = trim(value);
  if (value == "*") return true;
  while (!value.empty()) {
    auto comma = value.find(',');
    auto tag = trim(value.substr(0, comma));
    if (tag.substr(0, 2) == "W/") tag.remove_prefix(2);
    if (tag == etag) return true;
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return false;
}

RangeAnswer byte_range(std::string_view range, std::uint64_t size) {
  RangeAnswer whole;
  range = trim(range);
  constexpr std::string_view unit = "bytes=";
  if (range.size() <= unit.size() || range.substr(0, unit.size()) != unit) return whole;
  auto spec = trim(range.substr(unit.size()));
  if (spec.find(',') != std::string_view::npos) return whole;  // several ranges
  auto dash = spec.find('-');
  if (dash == std::string_view::npos) return whole;
  auto first_text = trim(spec.substr(0, dash));
  auto last_text = trim(spec.substr(dash + 1));
  RangeAnswer out;
  if (first_text.empty()) {
    // The last N bytes.
    auto n = number(last_text);
    if (!n) return whole;
    if (*n == 0 || size == 0) {
      out.outcome = RangeOutcome::unsatisfiable;
      return out;
    }
    std::uint64_t take = std::min(*n, size);
    out.outcome = RangeOutcome::partial;
    out.range = {size - take, take};
    return out;
  }
  auto first = number(first_text);
  if (!first) return whole;
  std::uint64_t last = size == 0 ? 0 : size - 1;
  if (!last_text.empty()) {
    auto l = number(last_text);
    if (!l || *l < *first) return whole;
    last = std::min(*l, last);
  }
  if (*first >= size) {
    out.outcome = RangeOutcome::unsatisfiable;
    return out;
  }
  out.outcome = RangeOutcome::partial;
  out.range = {*first, last - *first + 1};
  return out;
}

}  // namespace chatd::http
