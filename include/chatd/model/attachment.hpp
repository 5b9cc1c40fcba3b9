// Plain data for attachments (v1.1) and a message's shared post.
#pragma once

#include <cstdint>
#include <string>

#include "chatd/model/user.hpp"

namespace chatd::model {

using AttachmentId = std::int64_t;

// An upload's record. `json` is its API representation ({id, mime, size,
// sha256, created_at}), rendered by the database in one place.
struct Attachment {
  AttachmentId id = 0;
  UserId uploader = 0;
  std::string mime;
  std::int64_t size = 0;
  std::string sha256;  // 64 hex digits: the content's name on disk
  std::string json;
};

// A TikTok-style share carried by a message: a post, a profile or a link.
struct Share {
  std::string kind;  // "video", "profile" or "link"
  std::string ref;
  std::string title;
};

}  // namespace chatd::model
