#include "chatd/wire/render.hpp"

#include "chatd/core/time.hpp"

namespace chatd::wire {

using Json = nlohmann::json;

Json to_json(const model::User& user) {
  return {{"id", user.id},
          {"username", user.username},
          {"display_name", user.display_name},
          {"created_at", format_rfc3339_ms(user.created_at_ms)}};
}

Json to_json(const model::Settings& s) {
  return {{"dm_policy", model::to_string(s.dm_policy)},
          {"read_receipts", s.read_receipts},
          {"show_presence", s.show_presence}};
}

Json to_json(const model::ConversationView& v, bool with_members) {
  Json j = {{"id", v.id},
            {"kind", v.kind == model::Kind::direct ? "direct" : "group"},
            {"title", v.title ? Json(*v.title) : Json(nullptr)},
            {"created_at", v.created_at},
            {"last_seq", v.last_seq},
            {"read_seq", v.read_seq},
            {"unread_count", v.unread_count},
            {"last_message", v.last_message_json ? Json::parse(*v.last_message_json)
                                                 : Json(nullptr)},
            {"role", model::to_string(v.role)},
            {"state", v.status == model::MemberStatus::inbox ? "inbox" : "request"},
            {"declined", v.status == model::MemberStatus::declined},
            {"muted", v.muted},
            {"muted_until", v.muted_until ? Json(*v.muted_until) : Json(nullptr)}};
  if (with_members) {
    Json members = Json::array();
    for (const auto& m : v.members) {
      members.push_back(
          {{"user_id", m.user_id},
           {"role", model::to_string(m.role)},
           {"read_seq", m.read_seq ? Json(*m.read_seq) : Json(nullptr)}});
    }
    j["members"] = std::move(members);
  }
  return j;
}

const std::string& message_json(const model::Message& message) { return message.json; }

std::string event_json(const model::Event& e) {
  std::string out = "{\"conversation_id\":" + std::to_string(e.conversation_id) +
                    ",\"seq\":" + std::to_string(e.seq) + ",\"kind\":" + Json(e.kind).dump() +
                    ",\"actor_id\":" + std::to_string(e.actor_id) +
                    ",\"created_at\":" + Json(e.created_at).dump() + ",\"data\":";
  out += e.data_json;
  out += '}';
  return out;
}

}  // namespace chatd::wire
