#include "chatd/app/config.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <charconv>
#include <functional>
#include <sstream>

#include "chatd/http/cors.hpp"
#include "chatd/push/endpoint.hpp"

namespace chatd::app {

namespace {

// Sets a Config field from text; returns an empty string or what is wrong.
using Setter = std::function<std::string(Config&, const std::string&)>;

struct Setting {
  const char* flag;
  const char* env;
  std::string default_text;
  const char* help;
  Setter set;
};

template <class T>
bool parse_number(const std::string& s, T& out) {
  if (s.empty()) return false;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && ptr == s.data() + s.size();
}

template <class T>
Setter integer(T Config::*field, T min, T max) {
  return [field, min, max](Config& c, const std::string& v) -> std::string {
    T n{};
    if (!parse_number(v, n) || n < min || n > max) {
      return "must be an integer from " + std::to_string(min) + " to " + std::to_string(max);
    }
    c.*field = n;
    return "";
  };
}

Setter duration(std::chrono::milliseconds Config::*field) {
  return [field](Config& c, const std::string& v) -> std::string {
    std::chrono::milliseconds d{};
    if (!parse_duration(v, d) || d.count() <= 0) {
      return "must be a positive duration such as 500ms, 10s or 2m";
    }
    c.*field = d;
    return "";
  };
}

Setter one_of(std::string Config::*field, std::vector<std::string> allowed) {
  return [field, allowed](Config& c, const std::string& v) -> std::string {
    for (const auto& a : allowed) {
      if (a == v) {
        c.*field = v;
        return "";
      }
    }
    std::string list;
    for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
    return "must be one of " + list;
  };
}

// A byte count, with an optional KiB or MiB suffix.
Setter bytes(std::size_t Config::*field, std::size_t min, std::size_t max) {
  return [field, min, max](Config& c, const std::string& v) -> std::string {
    std::string digits = v;
    std::size_t scale = 1;
    for (auto [suffix, factor] : {std::pair{"KiB", std::size_t{1} << 10}, {"MiB", std::size_t{1} << 20}}) {
      std::string sfx = suffix;
      if (v.size() > sfx.size() && v.compare(v.size() - sfx.size(), sfx.size(), sfx) == 0) {
        digits = v.substr(0, v.size() - sfx.size());
        scale = factor;
      }
    }
    std::size_t n = 0;
    if (!parse_number(digits, n) || n > max / scale || n * scale < min) {
      return "must be a byte count from " + std::to_string(min) + " to " + std::to_string(max) +
             " (KiB and MiB suffixes allowed)";
    }
    c.*field = n * scale;
    return "";
  };
}

Setter rate(Rate Config::*field) {
  return [field](Config& c, const std::string& v) -> std::string {
    auto r = parse_rate(v);
    if (!r) return "must be a count per period such as 50/s, 10/15m or 3/500ms (at most a day), or 0 for no limit";
    c.*field = *r;
    return "";
  };
}

// The numeric address for a listen host: an IP address in its canonical
// form, a name by the system resolver (its first address, IPv4 preferred),
// "" when neither.
std::string resolve_listen_host(const std::string& host) {
  if (host.empty()) return "";
  auto text_of = [](const addrinfo* a) -> std::string {
    char text[INET6_ADDRSTRLEN] = {};
    const void* where = nullptr;
    if (a->ai_family == AF_INET) {
      where = &reinterpret_cast<const sockaddr_in*>(a->ai_addr)->sin_addr;
    } else if (a->ai_family == AF_INET6) {
      where = &reinterpret_cast<const sockaddr_in6*>(a->ai_addr)->sin6_addr;
    } else {
      return "";
    }
    return inet_ntop(a->ai_family, where, text, sizeof text) ? text : "";
  };
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST;
  addrinfo* found = nullptr;
  if (getaddrinfo(host.c_str(), nullptr, &hints, &found) != 0) {
    hints.ai_flags = AI_PASSIVE | AI_ADDRCONFIG;
    found = nullptr;
    if (getaddrinfo(host.c_str(), nullptr, &hints, &found) != 0) return "";
  }
  std::string best;
  for (auto* a = found; a; a = a->ai_next) {
    auto text = text_of(a);
    if (text.empty()) continue;
    if (best.empty() || a->ai_family == AF_INET) best = text;
    if (a->ai_family == AF_INET) break;
  }
  freeaddrinfo(found);
  return best;
}

std::string set_listen(Config& c, const std::string& v) {
  auto colon = v.rfind(':');
  if (colon == std::string::npos || colon == 0) return "must be host:port, e.g. 127.0.0.1:8080";
  std::string host = v.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  unsigned port = 0;
  if (!parse_number(v.substr(colon + 1), port) || port > 65535) {
    return "port must be an integer from 0 to 65535";
  }
  // A name is resolved now, so that a bad one fails here (exit 2) and not
  // when the server binds; the address it names is what the server binds.
  auto address = resolve_listen_host(host);
  if (address.empty()) {
    return "host '" + host + "' is neither an IP address nor a name this machine resolves";
  }
  c.listen_host = address;
  c.listen_port = static_cast<std::uint16_t>(port);
  return "";
}

std::vector<Setting> settings(unsigned cores) {
  std::string threads_default = std::to_string(cores);
  std::string pool_default = std::to_string(std::max(4u, cores * 2));
  return {
      {"--database-url", "DATABASE_URL", "(none)",
       "PostgreSQL connection URL; scripts/run.sh starts a local server when unset",
       [](Config& c, const std::string& v) -> std::string {
         if (v.empty()) return "must not be empty";
         c.database_url = v;
         return "";
       }},
      {"--listen", "CHATD_LISTEN", "127.0.0.1:8080", "host:port to serve on; port 0 picks a free one",
       set_listen},
      {"--threads", "CHATD_THREADS", threads_default, "IO threads",
       integer(&Config::threads, 1, 1024)},
      {"--db-pool", "CHATD_DB_POOL", pool_default,
       "database connections, one worker thread each", integer(&Config::db_pool, 1, 512)},
      {"--db-queue", "CHATD_DB_QUEUE", "4096",
       "database jobs that may wait for a connection; beyond it requests get 503",
       integer(&Config::db_queue, 1, 1'000'000)},
      {"--log-level", "CHATD_LOG_LEVEL", "info", "trace, debug, info, warn, error, critical or off",
       one_of(&Config::log_level, {"trace", "debug", "info", "warn", "error", "critical", "off"})},
      {"--log-format", "CHATD_LOG_FORMAT", "text", "text or json (one object per line)",
       one_of(&Config::log_format, {"text", "json"})},
      {"--body-limit", "CHATD_BODY_LIMIT", "65536", "largest request body in bytes (413 above)",
       integer(&Config::body_limit, std::size_t{1}, std::size_t{64} << 20)},
      {"--header-limit", "CHATD_HEADER_LIMIT", "16384",
       "largest request header block in bytes (413 above)",
       integer(&Config::header_limit, std::size_t{1024}, std::size_t{1} << 20)},
      {"--idle-timeout", "CHATD_IDLE_TIMEOUT", "60s",
       "close a kept-alive connection that sends no new request for this long",
       duration(&Config::idle_timeout)},
      {"--read-timeout", "CHATD_READ_TIMEOUT", "10s",
       "close a connection whose request has not fully arrived this long after it began",
       duration(&Config::read_timeout)},
      {"--shutdown-timeout", "CHATD_SHUTDOWN_TIMEOUT", "10s",
       "on SIGTERM/SIGINT, how long requests in flight may take to finish",
       duration(&Config::shutdown_timeout)},
      {"--ws-idle-timeout", "CHATD_WS_IDLE_TIMEOUT", "60s",
       "close a WebSocket silent this long; a ping goes out after half of it",
       duration(&Config::ws_idle_timeout)},
      {"--ws-max-queue", "CHATD_WS_MAX_QUEUE", "1024",
       "frames queued for one WebSocket before it is closed as too slow (1013)",
       integer(&Config::ws_max_queue, std::size_t{16}, std::size_t{1} << 20)},
      {"--ws-max-queue-bytes", "CHATD_WS_MAX_QUEUE_BYTES", "1048576",
       "bytes of frames queued for one WebSocket before it is closed as too slow (1013)",
       bytes(&Config::ws_max_queue_bytes, std::size_t{64} << 10, std::size_t{1} << 30)},
      {"--ws-accept-rate", "CHATD_WS_ACCEPT_RATE", "2000",
       "new WebSocket handshakes a second (bursts of as many); beyond it 503 with Retry-After; 0 = no limit",
       integer(&Config::ws_accept_rate, 0, 10'000'000)},
      {"--cors-origins", "CHATD_CORS_ORIGINS", "(none)",
       "comma-separated browser origins that may call chatd and open its WebSocket, e.g. https://web.example.com",
       [](Config& c, const std::string& v) -> std::string {
         std::vector<std::string> origins;
         std::size_t start = 0;
         while (start <= v.size()) {
           auto comma = v.find(',', start);
           std::string item = v.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
           while (!item.empty() && item.front() == ' ') item.erase(item.begin());
           while (!item.empty() && item.back() == ' ') item.pop_back();
           if (!item.empty()) {
             if (auto p = http::origin_problem(item); !p.empty()) return "origin '" + item + "' " + p;
             origins.push_back(item);
           }
           if (comma == std::string::npos) break;
           start = comma + 1;
         }
         c.cors_origins = std::move(origins);
         return "";
       }},
      {"--rate-sends", "CHATD_RATE_SENDS", "50/s",
       "messages a user may send per period, REST and WebSocket together, in bursts of twice that; beyond it 429 rate_limited; 0 = no limit",
       rate(&Config::rate_sends)},
      {"--rate-logins", "CHATD_RATE_LOGINS", "10/15m",
       "login attempts per username per window (every instance together); beyond it 429, even with the right password; 0 = no limit",
       rate(&Config::rate_logins)},
      {"--max-group-size", "CHATD_MAX_GROUP_SIZE", "256",
       "members a group may hold, its creator included; beyond it 409 group_full",
       integer(&Config::max_group_size, std::size_t{2}, std::size_t{100000})},
      {"--default-dm-policy", "CHATD_DEFAULT_DM_POLICY", "everyone",
       "a new user's dm_policy: everyone, requests (non-contacts arrive as message requests) or nobody",
       [](Config& c, const std::string& v) -> std::string {
         auto policy = model::dm_policy_from(v);
         if (!policy) return "must be one of everyone, requests, nobody";
         c.default_dm_policy = *policy;
         return "";
       }},
      {"--push-webhook", "CHATD_PUSH_WEBHOOK", "(none)",
       "http:// URL that receives push jobs (the APNs/FCM gateway); none: no push jobs are written",
       [](Config& c, const std::string& v) -> std::string {
         auto endpoint = push::parse_endpoint(v);
         if (!endpoint) return endpoint.error().message;
         c.push_webhook = v;
         return "";
       }},
      {"--push-delay", "CHATD_PUSH_DELAY", "1s",
       "how long after its message a push job falls due (a user who reads or is online by then gets none)",
       duration(&Config::push_delay)},
      {"--push-timeout", "CHATD_PUSH_TIMEOUT", "5s",
       "how long one webhook POST may take before it counts as failed and is retried",
       duration(&Config::push_timeout)},
      {"--push-give-up", "CHATD_PUSH_GIVE_UP", "24h",
       "how long a failing push job is retried (1 s doubling to 10 min) before it is dropped and counted failed",
       duration(&Config::push_give_up)},
      {"--data-dir", "CHATD_DATA_DIR", "var/data",
       "directory of attachment files (created when missing); relative to the working directory",
       [](Config& c, const std::string& v) -> std::string {
         if (v.empty()) return "must not be empty";
         c.data_dir = v;
         return "";
       }},
      {"--attachment-limit", "CHATD_ATTACHMENT_LIMIT", "26214400",
       "largest attachment upload in bytes (KiB/MiB suffixes too); 413 above",
       bytes(&Config::attachment_limit, std::size_t{1024}, std::size_t{1} << 40)},
      {"--attachment-ttl", "CHATD_ATTACHMENT_TTL", "24h",
       "how long an upload that no message carries is kept before the sweeper removes it",
       duration(&Config::attachment_ttl)},
      {"--sweep-interval", "CHATD_SWEEP_INTERVAL", "10m",
       "how often the attachment sweeper runs",
       duration(&Config::sweep_interval)},
      {"--presence-heartbeat", "CHATD_PRESENCE_HEARTBEAT", "3s",
       "how often an instance refreshes its presence row; silent for 5 of these, it counts as gone",
       duration(&Config::presence_heartbeat)},
      {"--migrations-dir", "CHATD_MIGRATIONS_DIR", "(built in)",
       "read migrations from this directory instead of those built into the binary",
       [](Config& c, const std::string& v) -> std::string {
         if (v.empty()) return "must not be empty";
         c.migrations_dir = v;
         return "";
       }},
      {"--password-hash-ops", "CHATD_PASSWORD_HASH_OPS", "2", "argon2id passes (opslimit)",
       integer(&Config::password_hash_ops, 1ULL, 64ULL)},
      {"--password-hash-mem", "CHATD_PASSWORD_HASH_MEM", "65536",
       "argon2id memory in KiB (memlimit)",
       integer(&Config::password_hash_mem_kib, std::size_t{8}, std::size_t{4} << 20)},
      {"--send-batch", "CHATD_SEND_BATCH", "64",
       "most messages committed in one transaction (group commit); 1 turns batching off",
       integer(&Config::send_batch, std::size_t{1}, std::size_t{1024})},
      {"--send-batch-wait-us", "CHATD_SEND_BATCH_WAIT_US", "500",
       "microseconds a send batch may wait to fill while another batch commits",
       integer(&Config::send_batch_wait_us, 0, 100'000)},
  };
}

Error setting_error(const Setting& s, const std::string& value, const std::string& problem) {
  return Error::invalid(std::string(s.flag) + " (" + s.env + ") " + problem + ", got '" + value +
                        "'");
}

}  // namespace

bool parse_duration(const std::string& text, std::chrono::milliseconds& out) {
  std::size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  if (digits == 0 || digits > 12) return false;
  long long n = std::stoll(text.substr(0, digits));
  std::string unit = text.substr(digits);
  if (unit == "ms") out = std::chrono::milliseconds(n);
  else if (unit == "s" || unit.empty()) out = std::chrono::seconds(n);
  else if (unit == "m") out = std::chrono::minutes(n);
  else if (unit == "h") out = std::chrono::hours(n);
  else return false;
  return true;
}

Expected<Config> parse_config(const std::vector<std::string>& args, const Environment& env,
                              unsigned cores) {
  if (cores == 0) cores = 1;
  Config c;
  c.threads = static_cast<int>(cores);
  c.db_pool = static_cast<int>(std::max(4u, cores * 2));
  auto table = settings(cores);
  for (const auto& arg : args) {
    if (arg == "--help" || arg == "-h") {
      c.command = Config::Command::help;
      return c;
    }
    if (arg == "--version") {
      c.command = Config::Command::version;
      return c;
    }
  }

  // Environment first, flags after: the flag wins.
  for (const auto& s : table) {
    auto it = env.find(s.env);
    if (it == env.end()) continue;
    if (auto problem = s.set(c, it->second); !problem.empty()) {
      return setting_error(s, it->second, problem);
    }
  }
  bool command_seen = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg.rfind("--", 0) != 0) {
      if (command_seen) return Error::invalid("unexpected argument '" + arg + "'");
      command_seen = true;
      if (arg == "serve") c.command = Config::Command::serve;
      else if (arg == "migrate") c.command = Config::Command::migrate;
      else return Error::invalid("unknown command '" + arg + "' (expected serve or migrate)");
      continue;
    }
    std::string name = arg, value;
    bool has_value = false;
    if (auto eq = arg.find('='); eq != std::string::npos) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
      has_value = true;
    }
    const Setting* setting = nullptr;
    for (const auto& s : table) {
      if (name == s.flag) setting = &s;
    }
    if (!setting) return Error::invalid("unknown option '" + name + "' (see --help)");
    if (!has_value) {
      if (i + 1 >= args.size()) return Error::invalid(name + " needs a value");
      value = args[++i];
    }
    if (auto problem = setting->set(c, value); !problem.empty()) {
      return setting_error(*setting, value, problem);
    }
  }
  if ((c.command == Config::Command::serve || c.command == Config::Command::migrate) &&
      c.database_url.empty()) {
    return Error::invalid(
        "--database-url (DATABASE_URL) is required; scripts/run.sh starts a local PostgreSQL "
        "and sets it for you");
  }
  return c;
}

std::string help_text(unsigned cores) {
  std::ostringstream out;
  out << "chatd: the chat messaging server\n\n"
         "Usage:\n"
         "  chatd [serve] [options]   apply pending migrations, then serve HTTP and WebSocket\n"
         "  chatd migrate [options]   apply pending migrations and exit\n"
         "  chatd --help | --version\n\n"
         "Every option is also an environment variable; the option wins.\n\n";
  for (const auto& s : settings(cores == 0 ? 1 : cores)) {
    out << "  " << s.flag << " VALUE";
    std::size_t used = std::string(s.flag).size() + 8;
    out << std::string(used < 28 ? 28 - used : 1, ' ') << s.env << " (default " << s.default_text
        << ")\n      " << s.help << "\n";
  }
  out << "\nSIGTERM or SIGINT: stop accepting, finish requests in flight, exit 0.\n";
  return out.str();
}

}  // namespace chatd::app
