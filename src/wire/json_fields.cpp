#include "chatd/wire/json_fields.hpp"

#include <cstdint>

namespace chatd::wire {

Expected<Json> parse_object(std::string_view text, std::string_view what) {
  Json object = Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (object.is_discarded()) return Error::invalid(std::string(what) + " must be valid JSON (UTF-8)");
  if (!object.is_object()) return Error::invalid(std::string(what) + " must be a JSON object");
  return object;
}

Expected<std::string> string_field(const Json& object, const char* field) {
  auto it = object.find(field);
  if (it == object.end() || it->is_null()) return Error::invalid(std::string(field) + " is required");
  if (!it->is_string()) return Error::invalid(std::string(field) + " must be a string");
  return it->get<std::string>();
}

Expected<std::optional<std::string>> optional_string_field(const Json& object, const char* field) {
  auto it = object.find(field);
  if (it == object.end() || it->is_null()) return std::optional<std::string>();
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

Expected<std::int64_t> int_field(const Json& object, const char* field) {
  auto it = object.find(field);
  if (it == object.end() || it->is_null()) return Error::invalid(std::string(field) + " is required");
  return as_int(*it, field);
}

Expected<std::optional<std::int64_t>> optional_int_field(const Json& object, const char* field) {
  auto it = object.find(field);
  if (it == object.end() || it->is_null()) return std::optional<std::int64_t>();
  auto v = as_int(*it, field);
  if (!v) return v.error();
  return std::optional<std::int64_t>(*v);
}

Expected<std::optional<bool>> optional_bool_field(const Json& object, const char* field) {
  auto it = object.find(field);
  if (it == object.end()) return std::optional<bool>{};
  if (!it->is_boolean()) return Error::invalid(std::string(field) + " must be true or false");
  return std::optional<bool>{it->get<bool>()};
}

}  // namespace chatd::wire
