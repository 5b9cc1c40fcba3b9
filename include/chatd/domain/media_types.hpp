// The media types an attachment may have (API.md, Attachments), and the check
// that an upload's leading bytes are what its declared type says. None of
// them is a type a browser would run (no HTML, no SVG, no scripts). Pure.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace chatd::domain {

// How many leading bytes bytes_match needs (fewer only when the upload is shorter).
inline constexpr std::size_t kSniffBytes = 12;

// The declared type of a Content-Type value: lower-cased, without parameters
// ("Image/JPEG; x=y" -> "image/jpeg"); none when it is not one chatd accepts.
std::optional<std::string> accepted_media_type(std::string_view content_type);

// Whether an upload of type `mime` may begin with `head` (its first
// min(size, kSniffBytes) bytes): JPEG, PNG, GIF and WebP by their
// signatures, MP4 (video and audio) by its `ftyp` box, MP3 by an ID3 tag
// or an MPEG audio frame header, Ogg by its page signature.
bool bytes_match(std::string_view mime, std::string_view head);

// The accepted types, for error messages: "image/jpeg, image/png, ...".
std::string accepted_media_types();

}  // namespace chatd::domain
