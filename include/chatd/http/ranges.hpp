// Conditional and partial GETs (RFC 9110 13.1.2, 14): If-None-Match against
// an entity tag, and a single `bytes=` Range. Pure.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace chatd::http {

// Whether an If-None-Match value names `etag` (a quoted strong tag): "*",
// or a list containing it, weak or not (the weak comparison GET uses).
bool none_match(std::string_view if_none_match, std::string_view etag);

struct ByteRange {
  std::uint64_t first = 0;
  std::uint64_t length = 0;
};

enum class RangeOutcome {
  whole,           // no usable Range: send everything (200)
  partial,         // one satisfiable range (206)
  unsatisfiable,   // 416, with Content-Range: bytes */size
};

struct RangeAnswer {
  RangeOutcome outcome = RangeOutcome::whole;
  ByteRange range;
};

// The answer to `Range: <value>` for a representation of `size` bytes.
// Syntax chatd does not serve (other units, several ranges, malformed) is
// ignored, as RFC 9110 allows: the whole representation.
RangeAnswer byte_range(std::string_view range, std::uint64_t size);

}  // namespace chatd::http
