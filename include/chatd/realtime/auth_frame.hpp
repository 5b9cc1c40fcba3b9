// A browser authenticates its socket with a first frame
// {"type":"auth","token":"…"} (the header is the other way).
#pragma once

#include <optional>
#include <string>

namespace chatd::realtime {

// The token of an auth frame; nullopt for anything else.
std::optional<std::string> auth_token(const std::string& first_frame);

}  // namespace chatd::realtime
