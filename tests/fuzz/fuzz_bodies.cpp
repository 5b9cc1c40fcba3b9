// Every request body's parser (src/wire/bodies.cpp) and the validation the
// services run on what it returns. The first byte picks the route; the rest
// is the body's text. Checks, besides no crash and no sanitizer report:
// - a refusal is the contract's 400 `invalid_request` with a message in
//   valid UTF-8;
// - an accepted body returns what the client wrote: every field it returns,
//   rendered back to JSON, equals that field of the input (absent = null),
//   and the rendering parses to the same value again.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "chatd/domain/validation.hpp"
#include "chatd/wire/bodies.hpp"

using namespace chatd;
using wire::Json;

namespace {

void check_refusal(const Error& e) {
  if (e.kind != ErrorKind::invalid_request || e.code != "invalid_request" || e.message.empty()) std::abort();
  if (!domain::utf8_length(e.message)) std::abort();
}

Json opt(const std::optional<std::string>& s) { return s ? Json(*s) : Json(nullptr); }
Json opt(const std::optional<std::int64_t>& v) { return v ? Json(*v) : Json(nullptr); }

template <class T, class Render, class Validate>
void run(const Json& object, Expected<T> (*parse)(const Json&), Render render, Validate validate) {
  auto parsed = parse(object);
  if (!parsed) return check_refusal(parsed.error());
  Json again = render(*parsed);
  for (const auto& [key, value] : again.items()) {
    auto it = object.find(key);
    if ((it == object.end() ? Json(nullptr) : *it) != value) std::abort();
  }
  auto reparsed = parse(again);
  if (!reparsed || render(*reparsed) != again) std::abort();
  validate(*parsed);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  auto object = wire::parse_object(text);
  if (!object) {
    check_refusal(object.error());
    return 0;
  }
  const Json& o = *object;
  switch (data[0] % 12) {
    case 0:
      run(o, wire::parse_new_user,
          [](const wire::NewUser& u) {
            return Json{{"username", u.username}, {"password", u.password},
                        {"display_name", opt(u.display_name)}};
          },
          [](const wire::NewUser& u) {
            (void)domain::username_problem(u.username);
            (void)domain::password_problem(u.password);
            if (u.display_name) (void)domain::display_name_problem(*u.display_name);
          });
      break;
    case 1:
      run(o, wire::parse_login,
          [](const wire::Login& l) { return Json{{"username", l.username}, {"password", l.password}}; },
          [](const wire::Login& l) {
            (void)domain::username_problem(l.username);
            (void)domain::password_problem(l.password);
          });
      break;
    case 2:
      run(o, wire::parse_new_conversation,
          [](const wire::NewConversation& c) {
            if (c.direct) return Json{{"kind", "direct"}, {"peer_id", c.peer}};
            Json g{{"kind", "group"}, {"title", c.title}};
            if (!c.member_ids.empty()) g["member_ids"] = c.member_ids;
            return g;
          },
          [](const wire::NewConversation& c) {
            if (!c.direct) (void)domain::title_problem(c.title);
          });
      break;
    case 3:
      run(o, wire::parse_title_change,
          [](const wire::TitleChange& t) { return Json{{"title", t.title}}; },
          [](const wire::TitleChange& t) { (void)domain::title_problem(t.title); });
      break;
    case 4:
      run(o, wire::parse_new_member,
          [](const wire::NewMember& m) { return Json{{"user_id", m.user_id}}; },
          [](const wire::NewMember&) {});
      break;
    case 5:
      run(o, wire::parse_read_mark, [](const wire::ReadMark& r) { return Json{{"seq", r.seq}}; },
          [](const wire::ReadMark&) {});
      break;
    case 6:
      run(o, wire::parse_new_message,
          [](const wire::NewMessage& m) {
            return Json{{"client_msg_id", m.client_msg_id}, {"body", m.body},
                        {"reply_to", opt(m.reply_to)}};
          },
          [](const wire::NewMessage& m) {
            (void)domain::client_msg_id_problem(m.client_msg_id);
            auto n = domain::utf8_length(m.body);
            if (!n) std::abort();  // the JSON parser let invalid UTF-8 through
            (void)domain::message_body_problem(m.body);
          });
      break;
    case 7:
      run(o, wire::parse_message_edit,
          [](const wire::MessageEdit& e) { return Json{{"body", e.body}}; },
          [](const wire::MessageEdit& e) { (void)domain::message_body_problem(e.body); });
      break;
    case 9:
      run(o, wire::parse_role_change, [](const wire::RoleChange& r) { return Json{{"role", r.role}}; },
          [](const wire::RoleChange& r) { (void)model::role_from(r.role); });
      break;
    case 10:
      run(o, wire::parse_settings_change,
          [](const model::SettingsChange& c) {
            Json j = Json::object();  // only what the client named: absent stays absent
            if (c.dm_policy) j["dm_policy"] = model::to_string(*c.dm_policy);
            if (c.read_receipts) j["read_receipts"] = *c.read_receipts;
            if (c.show_presence) j["show_presence"] = *c.show_presence;
            return j;
          },
          [](const model::SettingsChange&) {});
      break;
    case 11:
      run(o, wire::parse_mute, [](const wire::Mute& m) { return Json{{"until", opt(m.until)}}; },
          [](const wire::Mute& m) {
            if (m.until) (void)domain::timestamp_problem(*m.until);
          });
      break;
    case 8:
      run(o, wire::parse_conversation_id,
          [](const model::ConversationId& id) { return Json{{"conversation_id", id}}; },
          [](const model::ConversationId&) {});
      break;
  }
  return 0;
}
