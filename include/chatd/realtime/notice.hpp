// What instances tell each other over LISTEN/NOTIFY: small typed references,
// never content (receivers read events from the log). The wire form is text
// (store::NotifyChannel joins several into one NOTIFY payload with ';'):
//   e:<conversation>:<from>:<to>   events from..to committed
//   r:<conversation>:<user>:<seq>  a read marker moved
//   t:<conversation>:<user>        typing
//   p:<user>:<0|1>                 the user's status across instances changed
//   x:<token hash>                 a session token was revoked
//   s:<conversation>:<user>        the user's standing (role, mute, state) there changed
//   v:<user>:<0|1>                 the user hid (0) or showed (1) their presence
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "chatd/model/conversation.hpp"

namespace chatd::realtime {

struct Notice {
  enum class Kind { events, read, typing, presence, revoked, standing, visibility };
  Kind kind = Kind::events;
  model::ConversationId conversation = 0;
  model::UserId user = 0;
  model::Seq from = 0;
  model::Seq to = 0;        // events: the last seq; read: the marker
  bool online = false;      // presence; visibility: shown
  std::string token_hash;   // revoked

  static Notice events(model::ConversationId c, model::Seq from, model::Seq to);
  static Notice read(model::ConversationId c, model::UserId user, model::Seq seq);
  static Notice typing(model::ConversationId c, model::UserId user);
  static Notice presence(model::UserId user, bool online);
  static Notice revoked(std::string token_hash);
  static Notice standing(model::ConversationId c, model::UserId user);
  static Notice visibility(model::UserId user, bool shown);

  bool operator==(const Notice&) const = default;
};

std::string encode(const Notice& notice);
// nullopt for anything malformed (an unknown tag, a missing or non-numeric
// field, a negative id, trailing bytes).
std::optional<Notice> decode(std::string_view text);

}  // namespace chatd::realtime
