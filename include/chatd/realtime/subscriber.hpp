// One client connection, as the hub sees it. Calls come from the hub's
// threads: implementations hand the work to their own executor and return.
#pragma once

#include <string>

#include "chatd/model/conversation.hpp"
#include "chatd/realtime/frames.hpp"

namespace chatd::realtime {

class Subscriber {
 public:
  virtual ~Subscriber() = default;
  virtual model::UserId user() const = 0;
  virtual const std::string& token_hash() const = 0;
  // Event `seq` of the conversation is committed; `frame` is its event frame,
  // or null when the hub only knows that the log reached `seq` (the
  // connection then reads it from the log).
  virtual void deliver_event(model::ConversationId id, model::Seq seq, Frame frame) = 0;
  virtual void deliver_frame(Frame frame) = 0;  // read, typing, conversation_state
  // A presence frame: it may wait behind the connection's other frames, so a
  // storm of them does not hold back messages (docs/realtime.md).
  virtual void deliver_presence(Frame frame) = 0;
  // Live delivery may have missed anything (the hub fell behind or the
  // listener reconnected): compare every conversation with the log.
  virtual void recheck() = 0;
  virtual void revoke() = 0;    // its token was revoked
  virtual void shutdown() = 0;  // the server is stopping: close with 1001
};

}  // namespace chatd::realtime
