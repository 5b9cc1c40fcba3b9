#include "chatd/realtime/frames.hpp"

#include "chatd/wire/render.hpp"

namespace chatd::realtime {

using Json = nlohmann::json;

namespace {
Frame of(std::string text) { return std::make_shared<const std::string>(std::move(text)); }
Frame of(const Json& j) { return of(j.dump()); }
Json with_id(Json j, const Json& id) {
  if (!id.is_null()) j["id"] = id;
  return j;
}
}  // namespace

Frame event_frame(const model::Event& e) {
  return of("{\"type\":\"event\",\"event\":" + wire::event_json(e) + "}");
}

Frame read_frame(model::ConversationId conversation, model::UserId user, model::Seq seq) {
  return of("{\"type\":\"read\",\"conversation_id\":" + std::to_string(conversation) +
            ",\"user_id\":" + std::to_string(user) + ",\"seq\":" + std::to_string(seq) + "}");
}

Frame typing_frame(model::ConversationId conversation, model::UserId user) {
  return of("{\"type\":\"typing\",\"conversation_id\":" + std::to_string(conversation) +
            ",\"user_id\":" + std::to_string(user) + "}");
}

Frame presence_frame(model::UserId user, bool online) {
  return of("{\"type\":\"presence\",\"user_id\":" + std::to_string(user) +
            ",\"online\":" + (online ? "true" : "false") + "}");
}

Frame conversation_state_frame(const model::MemberState& s) {
  return of(Json{{"type", "conversation_state"},
                 {"conversation_id", s.conversation},
                 {"state", s.status == model::MemberStatus::inbox ? "inbox" : "request"},
                 {"declined", s.status == model::MemberStatus::declined},
                 {"muted", s.muted},
                 {"muted_until", s.muted_until ? Json(*s.muted_until) : Json(nullptr)},
                 {"role", model::to_string(s.role)}});
}

Frame error_frame(const Json& id, const Error& error) {
  if (error.retry_after_ms) return error_frame(id, error, static_cast<long>(*error.retry_after_ms));
  return of(with_id({{"type", "error"}, {"error", {{"code", error.code}, {"message", error.message}}}},
                    id));
}

Frame error_frame(const Json& id, const Error& error, long retry_after_ms) {
  return of(with_id({{"type", "error"},
                     {"error", {{"code", error.code}, {"message", error.message}}},
                     {"retry_after_ms", retry_after_ms}},
                    id));
}

Frame send_ack_frame(const Json& id, const std::string& message_json) {
  return of("{\"type\":\"ack\",\"id\":" + id.dump() + ",\"message\":" + message_json + "}");
}

Frame read_ack_frame(const Json& id, model::Seq read_seq) {
  return of(with_id({{"type", "ack"}, {"read_seq", read_seq}}, id));
}

Frame pong_frame(const Json& id) { return of(with_id({{"type", "pong"}}, id)); }

Frame synced_frame(const Json& id) { return of(with_id({{"type", "synced"}}, id)); }

Frame authenticated_frame(model::UserId user) {
  return of("{\"type\":\"authenticated\",\"user_id\":" + std::to_string(user) + "}");
}

}  // namespace chatd::realtime

#include "chatd/realtime/auth_frame.hpp"

namespace chatd::realtime {

std::optional<std::string> auth_token(const std::string& first_frame) {
  auto frame = nlohmann::json::parse(first_frame, nullptr, false);
  if (!frame.is_object()) return std::nullopt;
  auto type = frame.find("type");
  auto token = frame.find("token");
  if (type == frame.end() || *type != "auth" || token == frame.end() || !token->is_string()) {
    return std::nullopt;
  }
  auto t = token->get<std::string>();
  if (t.empty()) return std::nullopt;
  return t;
}

}  // namespace chatd::realtime
