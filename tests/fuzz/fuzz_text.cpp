// The UTF-8 validator and counter, and every text rule built on them
// (usernames, passwords, display names, bodies, ids, emoji, titles, ids and
// page limits from the query string).
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "chatd/domain/validation.hpp"

using namespace chatd::domain;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view s(reinterpret_cast<const char*>(data), size);
  auto n = utf8_length(s);
  if (n && *n > s.size()) std::abort();  // never more characters than bytes
  // A body is valid exactly when it is valid UTF-8 of 1..4000 characters
  // without U+0000.
  bool body_ok = message_body_problem(s).empty();
  if (body_ok && (!n || *n == 0 || *n > 4000 || s.find('\0') != std::string_view::npos)) {
    std::abort();
  }
  (void)username_problem(s);
  (void)password_problem(s);
  (void)display_name_problem(s);
  (void)client_msg_id_problem(s);
  (void)emoji_problem(s);
  (void)title_problem(s);
  (void)parse_id(s, "id");
  (void)parse_limit(std::string(s));
  return 0;
}
