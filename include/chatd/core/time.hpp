#pragma once

#include <cstdint>
#include <string>

namespace chatd {

// RFC 3339 UTC with milliseconds, e.g. 2026-11-25T10:00:00.123Z.
std::string format_rfc3339_ms(std::int64_t unix_ms);

}  // namespace chatd
