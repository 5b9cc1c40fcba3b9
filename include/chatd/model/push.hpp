// A push job as the worker claimed it (migrations/0007, the outbox).
#pragma once

#include <cstdint>
#include <string>

#include "chatd/model/conversation.hpp"

namespace chatd::model {

// A job as the worker claimed it, with what the database said about it then.
struct PushJob {
  std::int64_t id = 0;
  model::UserId user = 0;
  model::ConversationId conversation = 0;
  model::Seq seq = 0;
  model::UserId sender = 0;
  std::string preview;       // up to 100 characters of the message body
  double age_seconds = 0;    // since the message committed
  int attempts = 0;          // failed POSTs so far
  bool skip = false;         // online, read past it, muted, left, or deleted now
};

}  // namespace chatd::model
