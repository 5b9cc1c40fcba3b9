// The contract's input rules as pure functions. Each *_problem function returns
// an empty string when the value is acceptable, otherwise a message naming the
// field.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "chatd/core/expected.hpp"
#include "chatd/model/conversation.hpp"

namespace chatd::domain {

// Number of Unicode scalar values, or nullopt when `s` is not valid UTF-8
// (overlong forms, surrogates and values past U+10FFFF are invalid).
std::optional<std::size_t> utf8_length(std::string_view s);

std::string username_problem(std::string_view username);
std::string password_problem(std::string_view password);
std::string display_name_problem(std::string_view display_name);

// 1..4000 characters; 0..4000 when the message carries attachments or a share.
std::string message_body_problem(std::string_view body, bool may_be_empty = false);
// A message's attachment ids: at most 10, positive, none twice.
std::string attachments_problem(const std::vector<std::int64_t>& ids);
// A share: kind video, profile or link; ref 1..512 characters (a link's an
// https:// URL); title 0..200 characters.
std::string share_problem(const model::Share& share);
// Whether a stored message carries attachments or a share (from its JSON).
bool carries_media(const model::Message& message);
std::string client_msg_id_problem(std::string_view id);    // 1..64 visible ASCII
std::string emoji_problem(std::string_view emoji);         // 1..64 bytes, no space/control
std::string title_problem(std::string_view title);         // 1..100 characters
// An RFC 3339 date-time with a zone (`2026-12-24T18:00:00Z`,
// `2026-12-24T19:00:00.5+01:00`; `T` and `Z` in upper case), a real
// calendar day, years 1970..9999.
std::string timestamp_problem(std::string_view text);

constexpr int kDefaultPageLimit = 50;
constexpr int kMaxPageLimit = 200;

// A page `limit` query value: absent gives the default, otherwise 1..200.
Expected<int> parse_limit(const std::optional<std::string>& raw, int default_limit = kDefaultPageLimit,
                          int max_limit = kMaxPageLimit);

// A positive 64-bit id from a path segment or query value; `what` names it.
Expected<std::int64_t> parse_id(std::string_view raw, std::string_view what);

}  // namespace chatd::domain
