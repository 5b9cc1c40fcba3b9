// What chatd shows of its model types, over REST and WebSocket alike. The
// message itself is rendered by the store at commit (src/store/shapes.hpp);
// these splice that text, and wrap events in their envelope.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "chatd/model/conversation.hpp"
#include "chatd/model/user.hpp"

namespace chatd::wire {

nlohmann::json to_json(const model::User& user);
nlohmann::json to_json(const model::Settings& settings);
nlohmann::json to_json(const model::ConversationView& view, bool with_members);
// The message as stored: {"conversation_id", "seq", "sender_id", ...}.
const std::string& message_json(const model::Message& message);
// {"conversation_id", "seq", "kind", "actor_id", "created_at", "data"}: the
// one definition of the event envelope.
std::string event_json(const model::Event& event);

}  // namespace chatd::wire
