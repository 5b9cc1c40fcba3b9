// Plain data shared by the domain and the store. No behaviour, no JSON, no SQL.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace chatd::model {

using UserId = std::int64_t;

struct User {
  UserId id = 0;
  std::string username;
  std::string display_name;
  std::int64_t created_at_ms = 0;
};

// What login needs: the user and the stored argon2id hash to verify against.
struct Credentials {
  User user;
  std::string password_hash;
};

// Who may open a direct conversation with the user or add them to a group
// (API.md, settings): anyone; non-contacts as a message request; contacts only.
enum class DmPolicy { everyone, requests, nobody };
const char* to_string(DmPolicy policy);
std::optional<DmPolicy> dm_policy_from(const std::string& text);

struct Settings {
  DmPolicy dm_policy = DmPolicy::everyone;
  bool read_receipts = true;
  bool show_presence = true;
};

// A change to Settings: absent fields stay as they are.
struct SettingsChange {
  std::optional<DmPolicy> dm_policy;
  std::optional<bool> read_receipts;
  std::optional<bool> show_presence;
};

}  // namespace chatd::model
