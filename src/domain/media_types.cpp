#include "chatd/domain/media_types.hpp"

#include <algorithm>
#include <array>
#include <cctype>

namespace chatd::domain {

namespace {
constexpr std::array<std::string_view, 8> kTypes = {
    "image/jpeg", "image/png", "image/gif", "image/webp",
    "video/mp4",  "audio/mp4", "audio/mpeg", "audio/ogg"};

bool starts(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && s.substr(0, prefix.size()) == prefix;
}
unsigned char at(std::string_view s, std::size_t i) { return static_cast<unsigned char>(s[i]); }
}  // namespace

std::optional<std::string> accepted_media_type(std::string_view content_type) {
  auto end = content_type.find(';');
  std::string_view base = content_type.substr(0, end);
  while (!base.empty() && (base.back() == ' ' || base.back() == '\t')) base.remove_suffix(1);
  while (!base.empty() && (base.front() == ' ' || base.front() == '\t')) base.remove_prefix(1);
  std::string lower(base);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (auto t : kTypes) {
    if (lower == t) return lower;
  }
  return std::nullopt;
}

bool bytes_match(std::string_view mime, std::string_view head) {
  using namespace std::string_view_literals;
  if (mime == "image/jpeg") return starts(head, "\xFF\xD8\xFF"sv);
  if (mime == "image/png") return starts(head, "\x89PNG\r\n\x1A\n"sv);
  if (mime == "image/gif") return starts(head, "GIF87a"sv) || starts(head, "GIF89a"sv);
  if (mime == "image/webp") {
    return head.size() >= 12 && starts(head, "RIFF"sv) && head.substr(8, 4) == "WEBP"sv;
  }
  if (mime == "video/mp4" || mime == "audio/mp4") {
    // ISO base media: a box size, then the `ftyp` box type.
    return head.size() >= 8 && head.substr(4, 4) == "ftyp"sv;
  }
  if (mime == "audio/mpeg") {
    if (starts(head, "ID3"sv)) return true;
    // An MPEG audio frame: 11 sync bits, a version that is not "reserved"
    // (01), and a layer that is not "reserved" (00).
    return head.size() >= 2 && at(head, 0) == 0xFF && (at(head, 1) & 0xE0) == 0xE0 &&
           (at(head, 1) & 0x18) != 0x08 && (at(head, 1) & 0x06) != 0x00;
  }
  if (mime == "audio/ogg") return starts(head, "OggS"sv);
  return false;
}

std::string accepted_media_types() {
  std::string out;
  for (auto t : kTypes) {
    if (!out.empty()) out += ", ";
    out += t;
  }
  return out;
}

}  // namespace chatd::domain
