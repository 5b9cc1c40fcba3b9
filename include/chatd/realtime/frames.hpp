// Every frame chatd sends on a WebSocket, built in one place. A frame is an
// immutable shared string: fan-out serialises an event once and every
// connection holds a pointer to the same bytes.
#pragma once

#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "chatd/core/expected.hpp"
#include "chatd/model/conversation.hpp"

namespace chatd::realtime {

using Frame = std::shared_ptr<const std::string>;

Frame event_frame(const model::Event& event);
Frame read_frame(model::ConversationId conversation, model::UserId user, model::Seq seq);
Frame typing_frame(model::ConversationId conversation, model::UserId user);
Frame presence_frame(model::UserId user, bool online);
// To the user's own devices: their standing in a conversation changed.
Frame conversation_state_frame(const model::MemberState& state);

// Answers to client frames; `id` is echoed when not null.
Frame error_frame(const nlohmann::json& id, const Error& error);
// An error with the time to wait before trying again (rate_limited).
Frame error_frame(const nlohmann::json& id, const Error& error, long retry_after_ms);
Frame send_ack_frame(const nlohmann::json& id, const std::string& message_json);
Frame read_ack_frame(const nlohmann::json& id, model::Seq read_seq);
Frame pong_frame(const nlohmann::json& id);
Frame synced_frame(const nlohmann::json& id);
Frame authenticated_frame(model::UserId user);

}  // namespace chatd::realtime
