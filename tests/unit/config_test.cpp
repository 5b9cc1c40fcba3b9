#include <gtest/gtest.h>

#include "chatd/app/config.hpp"

using chatd::app::Config;
using chatd::app::Environment;
using chatd::app::parse_config;

namespace {
const Environment kDb = {{"DATABASE_URL", "postgresql://db/chatd"}};
}

TEST(Config, DefaultsFollowTheContract) {
  auto c = parse_config({}, kDb, 8);
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->command, Config::Command::serve);
  EXPECT_EQ(c->listen_host, "127.0.0.1");
  EXPECT_EQ(c->listen_port, 8080);
  EXPECT_EQ(c->threads, 8);
  EXPECT_EQ(c->db_pool, 16);
  EXPECT_EQ(c->log_level, "info");
  EXPECT_EQ(c->log_format, "text");
  EXPECT_EQ(c->body_limit, 65536u);
  EXPECT_EQ(c->rate_sends.count, 50);
  EXPECT_EQ(c->rate_sends.per, std::chrono::seconds(1));
  EXPECT_EQ(c->rate_logins.count, 10);
  EXPECT_EQ(c->rate_logins.per, std::chrono::minutes(15));
  EXPECT_EQ(c->max_group_size, 256u);
}

TEST(Config, RatesAreCountsPerPeriodOrZero) {
  auto c = parse_config({"--rate-sends", "0", "--rate-logins", "3/500ms"}, kDb, 2);
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_TRUE(c->rate_sends.off());
  EXPECT_EQ(c->rate_logins.count, 3);
  auto bad = parse_config({"--rate-sends", "fast"}, kDb, 2);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("--rate-sends"), std::string::npos);
  EXPECT_FALSE(parse_config({"--max-group-size", "1"}, kDb, 2).ok());
}

TEST(Config, EnvironmentVariablesSetValues) {
  Environment env = kDb;
  env["CHATD_LISTEN"] = "0.0.0.0:9000";
  env["CHATD_THREADS"] = "3";
  env["CHATD_DB_POOL"] = "5";
  env["CHATD_LOG_FORMAT"] = "json";
  env["CHATD_IDLE_TIMEOUT"] = "1500ms";
  auto c = parse_config({}, env, 2);
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->listen_host, "0.0.0.0");
  EXPECT_EQ(c->listen_port, 9000);
  EXPECT_EQ(c->threads, 3);
  EXPECT_EQ(c->db_pool, 5);
  EXPECT_EQ(c->log_format, "json");
  EXPECT_EQ(c->idle_timeout.count(), 1500);
}

TEST(Config, FlagWinsOverEnvironment) {
  Environment env = kDb;
  env["CHATD_THREADS"] = "3";
  auto c = parse_config({"--threads", "6", "--database-url=postgresql://other/x"}, env, 2);
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->threads, 6);
  EXPECT_EQ(c->database_url, "postgresql://other/x");
}

TEST(Config, WrongValueNamesTheSetting) {
  auto c = parse_config({"--threads", "zero"}, kDb, 2);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message.find("--threads"), std::string::npos);
  EXPECT_NE(c.error().message.find("CHATD_THREADS"), std::string::npos);
  EXPECT_NE(c.error().message.find("zero"), std::string::npos);

  Environment env = kDb;
  env["CHATD_LOG_LEVEL"] = "loud";
  auto l = parse_config({}, env, 2);
  ASSERT_FALSE(l.ok());
  EXPECT_NE(l.error().message.find("CHATD_LOG_LEVEL"), std::string::npos);

  for (const char* bad : {"8080", "host:", "host:70000", ":80", "h:-1"}) {
    auto x = parse_config({"--listen", bad}, kDb, 2);
    EXPECT_FALSE(x.ok()) << bad;
    if (!x.ok()) {
      EXPECT_NE(x.error().message.find("--listen"), std::string::npos);
    }
  }
  EXPECT_FALSE(parse_config({"--db-pool", "0"}, kDb, 2).ok());
  EXPECT_FALSE(parse_config({"--read-timeout", "soon"}, kDb, 2).ok());
  EXPECT_FALSE(parse_config({"--body-limit", "-5"}, kDb, 2).ok());
}

TEST(Config, ListenNamesAreResolvedOrRefusedAtValidation) {
  // A name resolves to the address the server will bind (it used to pass
  // here and fail at bind time with exit 1).
  auto c = parse_config({"--listen", "localhost:8080"}, kDb, 2);
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_TRUE(c->listen_host == "127.0.0.1" || c->listen_host == "::1") << c->listen_host;
  // A short IPv4 form the resolver accepts is bound in its canonical form.
  auto short_form = parse_config({"--listen", "127.1:8080"}, kDb, 2);
  ASSERT_TRUE(short_form.ok());
  EXPECT_EQ(short_form->listen_host, "127.0.0.1");
  auto v6 = parse_config({"--listen", "[::1]:8080"}, kDb, 2);
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->listen_host, "::1");
  // A name nothing resolves is refused now, naming the setting.
  auto bad = parse_config({"--listen", "no-such-host.invalid:8080"}, kDb, 2);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("--listen"), std::string::npos);
  EXPECT_NE(bad.error().message.find("no-such-host.invalid"), std::string::npos);
}

TEST(Config, PortZeroIsAllowed) {
  auto c = parse_config({"--listen", "127.0.0.1:0"}, kDb, 2);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->listen_port, 0);
}

TEST(Config, UnknownOptionAndMissingValueAreErrors) {
  EXPECT_FALSE(parse_config({"--nope"}, kDb, 2).ok());
  EXPECT_FALSE(parse_config({"--threads"}, kDb, 2).ok());
  EXPECT_FALSE(parse_config({"frobnicate"}, kDb, 2).ok());
}

TEST(Config, DatabaseUrlIsRequiredToServe) {
  auto c = parse_config({}, {}, 2);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message.find("DATABASE_URL"), std::string::npos);
}

TEST(Config, MigrateCommandAndHelp) {
  auto m = parse_config({"migrate"}, kDb, 2);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->command, Config::Command::migrate);
  auto h = parse_config({"--help"}, {}, 2);
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->command, Config::Command::help);
}

TEST(Config, HelpListsEverySettingWithItsVariable) {
  auto text = chatd::app::help_text(4);
  for (const char* name : {"--database-url", "DATABASE_URL", "--listen", "CHATD_LISTEN",
                           "--threads", "CHATD_THREADS", "--db-pool", "CHATD_DB_POOL",
                           "--log-level", "CHATD_LOG_LEVEL", "--log-format", "CHATD_LOG_FORMAT",
                           "--body-limit", "--idle-timeout", "--read-timeout", "migrate"}) {
    EXPECT_NE(text.find(name), std::string::npos) << name;
  }
}

TEST(Config, DurationsAcceptUnits) {
  std::chrono::milliseconds d{};
  ASSERT_TRUE(chatd::app::parse_duration("250ms", d));
  EXPECT_EQ(d.count(), 250);
  ASSERT_TRUE(chatd::app::parse_duration("3s", d));
  EXPECT_EQ(d.count(), 3000);
  ASSERT_TRUE(chatd::app::parse_duration("2m", d));
  EXPECT_EQ(d.count(), 120000);
  ASSERT_TRUE(chatd::app::parse_duration("7", d));
  EXPECT_EQ(d.count(), 7000);
  EXPECT_FALSE(chatd::app::parse_duration("", d));
  ASSERT_TRUE(chatd::app::parse_duration("24h", d));
  EXPECT_EQ(d.count(), 24LL * 3600 * 1000);
  EXPECT_FALSE(chatd::app::parse_duration("5d", d));
  EXPECT_FALSE(chatd::app::parse_duration("ms", d));
}

TEST(Config, PushAndPolicySettingsParseAndBadValuesNameTheSetting) {
  auto c = chatd::app::parse_config({"--database-url", "x", "--default-dm-policy", "requests",
                                     "--push-webhook", "http://127.0.0.1:9/push", "--push-delay",
                                     "300ms", "--push-give-up", "2h"},
                                    {}, 2);
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->default_dm_policy, chatd::model::DmPolicy::requests);
  EXPECT_EQ(c->push_webhook, "http://127.0.0.1:9/push");
  EXPECT_EQ(c->push_delay.count(), 300);
  EXPECT_EQ(c->push_give_up.count(), 2LL * 3600 * 1000);
  auto defaults = chatd::app::parse_config({"--database-url", "x"}, {}, 2);
  ASSERT_TRUE(defaults);
  EXPECT_EQ(defaults->default_dm_policy, chatd::model::DmPolicy::everyone);
  EXPECT_TRUE(defaults->push_webhook.empty());
  EXPECT_EQ(defaults->push_give_up.count(), 24LL * 3600 * 1000);
  auto https = chatd::app::parse_config({"--database-url", "x", "--push-webhook", "https://gw/"}, {}, 2);
  ASSERT_FALSE(https);
  EXPECT_NE(https.error().message.find("--push-webhook (CHATD_PUSH_WEBHOOK)"), std::string::npos);
  auto policy = chatd::app::parse_config({"--database-url", "x"}, {{"CHATD_DEFAULT_DM_POLICY", "friends"}}, 2);
  ASSERT_FALSE(policy);
  EXPECT_NE(policy.error().message.find("--default-dm-policy"), std::string::npos);
}

TEST(Config, CorsOriginsAreAListOfBrowserOrigins) {
  auto none = parse_config({}, kDb, 2);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->cors_origins.empty());

  Environment env = kDb;
  env["CHATD_CORS_ORIGINS"] = "https://web.example.com, http://localhost:5173,http://[::1]:8080";
  auto c = parse_config({}, env, 2);
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->cors_origins, (std::vector<std::string>{"https://web.example.com",
                                                        "http://localhost:5173", "http://[::1]:8080"}));

  for (const char* bad : {"*", "null", "web.example.com", "https://web.example.com/",
                          "https://web.example.com/app", "https://*.example.com",
                          "ftp://web.example.com", "https://", "http://host:0", "http://host:99999",
                          "https://ok.example.com,https://bad.example.com/x"}) {
    auto x = parse_config({"--cors-origins", bad}, kDb, 2);
    EXPECT_FALSE(x.ok()) << bad;
    if (!x.ok()) {
      EXPECT_NE(x.error().message.find("--cors-origins"), std::string::npos) << bad;
    }
  }
}
