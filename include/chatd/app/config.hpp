// Settings: every one is a flag and an environment variable; the flag wins. A
// wrong value is an error that names the setting.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

#include "chatd/core/rate_limit.hpp"
#include <vector>

#include "chatd/core/expected.hpp"
#include "chatd/model/user.hpp"

namespace chatd::app {

struct Config {
  enum class Command { serve, migrate, help, version };
  Command command = Command::serve;

  std::string database_url;
  std::string listen_host = "127.0.0.1";
  std::uint16_t listen_port = 8080;
  int threads = 1;
  int db_pool = 4;
  int db_queue = 4096;
  std::string log_level = "info";
  std::string log_format = "text";
  std::size_t body_limit = 64 * 1024;
  std::size_t header_limit = 16 * 1024;
  std::chrono::milliseconds idle_timeout{60'000};
  std::chrono::milliseconds read_timeout{10'000};
  std::chrono::milliseconds shutdown_timeout{10'000};
  std::chrono::milliseconds ws_idle_timeout{60'000};
  std::size_t ws_max_queue = 1024;
  std::size_t ws_max_queue_bytes = 1024 * 1024;
  int ws_accept_rate = 2000;  // new WebSocket handshakes a second; 0: no limit
  // Browser origins allowed to call chatd (CORS) and open its WebSocket; none by default.
  std::vector<std::string> cors_origins;
  // Sends per user (burst: twice the count) and login attempts per username
  // per window. Rate{} is off.
  Rate rate_sends{50, std::chrono::seconds(1)};
  Rate rate_logins{10, std::chrono::minutes(15)};
  std::size_t max_group_size = 256;  // members of a group, its creator included
  model::DmPolicy default_dm_policy = model::DmPolicy::everyone;  // a new user's
  // The push hand-off: no jobs without a webhook (http://host:port/path).
  std::string push_webhook;
  std::chrono::milliseconds push_delay{1000};  // a job falls due this long after its message
  std::chrono::milliseconds push_timeout{5000};  // per POST
  std::chrono::milliseconds push_give_up{24L * 3600 * 1000};
  std::chrono::milliseconds presence_heartbeat{3000};
  // Attachments: where their files live, the largest upload, how long an
  // upload no message carries is kept, and how often the sweeper looks.
  std::string data_dir = "var/data";
  std::size_t attachment_limit = 25 * 1024 * 1024;
  std::chrono::milliseconds attachment_ttl{24L * 3600 * 1000};
  std::chrono::milliseconds sweep_interval{10L * 60 * 1000};  // instances expire after 5 of these
  std::string migrations_dir;  // empty: the migrations built into the binary
  unsigned long long password_hash_ops = 2;
  std::size_t password_hash_mem_kib = 64 * 1024;
  std::size_t send_batch = 64;
  int send_batch_wait_us = 500;
};

using Environment = std::map<std::string, std::string>;

// args excludes the program name. `cores` sets the defaults that depend on it.
Expected<Config> parse_config(const std::vector<std::string>& args, const Environment& env,
                              unsigned cores);
std::string help_text(unsigned cores);

// "250ms", "10s", "2m", or a bare number of seconds.
bool parse_duration(const std::string& text, std::chrono::milliseconds& out);

}  // namespace chatd::app
