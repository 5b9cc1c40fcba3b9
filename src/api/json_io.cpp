#include "chatd/api/json_io.hpp"

#include "chatd/core/time.hpp"

namespace chatd::api {

Expected<Json> parse_object(const http::Request& request) {
  Json body = Json::parse(request.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded()) return Error::invalid("body must be valid JSON (UTF-8)");
  if (!body.is_object()) return Error::invalid("body must be a JSON object");
  return body;
}

Expected<std::string> string_field(const Json& body, const char* field) {
  auto it = body.find(field);
  if (it == body.end() || it->is_null()) return Error::invalid(std::string(field) + " is required");
  if (!it->is_string()) return Error::invalid(std::string(field) + " must be a string");
  return it->get<std::string>();
}

Expected<std::optional<std::string>> optional_string_field(const Json& body, const char* field) {
  auto it = body.find(field);
  if (it == body.end() || it->is_null()) return std::optional<std::string>();
  if (!it->is_string()) return Error::invalid(std::string(field) + " must be a string");
  return std::optional<std::string>(it->get<std::string>());
}

namespace {
Expected<std::int64_t> as_int(const Json& v, const std::string& what) {
  if (!v.is_number_integer()) return Error::invalid(what + " must be an integer");
  if (v.is_number_unsigned() && v.get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX)) {
    return Error::invalid(what + " is out of range");
  }
  return v.get<std::int64_t>();
}
}  // namespace

Expected<std::int64_t> int_field(const Json& body, const char* field) {
  auto it = body.find(field);
  if (it == body.end() || it->is_null()) return Error::invalid(std::string(field) + " is required");
  return as_int(*it, field);
}

Expected<std::optional<std::int64_t>> optional_int_field(const Json& body, const char* field) {
  auto it = body.find(field);
  if (it == body.end() || it->is_null()) return std::optional<std::int64_t>();
  auto v = as_int(*it, field);
  if (!v) return v.error();
  return std::optional<std::int64_t>(*v);
}

Expected<std::optional<std::int64_t>> seq_param(const http::Request& request, const char* name) {
  auto raw = request.query_param(name);
  if (!raw) return std::optional<std::int64_t>();
  bool digits = !raw->empty() && raw->size() <= 18;
  for (char c : *raw) digits = digits && c >= '0' && c <= '9';
  if (!digits) return Error::invalid(std::string(name) + " must be a non-negative integer");
  return std::optional<std::int64_t>(std::stoll(*raw));
}

http::Response raw_json_response(int status, std::string body) {
  http::Response res;
  res.status = status;
  res.body = std::move(body);
  return res;
}

http::Response json_response(int status, const Json& body) {
  http::Response res;
  res.status = status;
  res.body = body.dump();
  return res;
}

http::Response no_content() {
  http::Response res;
  res.status = 204;
  res.content_type.clear();
  return res;
}

Json to_json(const model::User& user) {
  return {{"id", user.id},
          {"username", user.username},
          {"display_name", user.display_name},
          {"created_at", format_rfc3339_ms(user.created_at_ms)}};
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
                                                 : Json(nullptr)}};
  if (with_members) {
    Json members = Json::array();
    for (const auto& m : v.members) {
      members.push_back(
          {{"user_id", m.user_id}, {"role", model::to_string(m.role)}, {"read_seq", m.read_seq}});
    }
    j["members"] = std::move(members);
  }
  return j;
}

std::string message_json(const model::Message& message) { return message.json; }

std::string event_json(const model::Event& e) {
  std::string out = "{\"conversation_id\":" + std::to_string(e.conversation_id) +
                    ",\"seq\":" + std::to_string(e.seq) + ",\"kind\":" + Json(e.kind).dump() +
                    ",\"actor_id\":" + std::to_string(e.actor_id) +
                    ",\"created_at\":" + Json(e.created_at).dump() + ",\"data\":";
  out += e.data_json;
  out += '}';
  return out;
}

}  // namespace chatd::api
