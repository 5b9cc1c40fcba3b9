// User settings (API.md v1.1): GET/PATCH /v1/users/me/settings, the default
// dm_policy, and what read_receipts and show_presence hide from others, on
// one instance and across two.
#include <algorithm>
#include <functional>

#include "chat_fixture.hpp"
#include "ws_client.hpp"

namespace chatd::test {
namespace {

using namespace std::chrono_literals;
using Pred = std::function<bool(const Json&)>;

const char* const kSettings = "/v1/users/me/settings";

Json defaults() { return {{"dm_policy", "everyone"}, {"read_receipts", true}, {"show_presence", true}}; }
// Waits for `control`'s read frame; none about `hidden` may come before it or just after.
void expect_only_control_reads(WsClient& ws, long long hidden, long long control) {
  std::vector<Json> before;
  ASSERT_TRUE(ws.read_until(about("read", control), 5s, &before)) << "the control read never arrived";
  EXPECT_FALSE(std::any_of(before.begin(), before.end(), about("read", hidden)));
  EXPECT_FALSE(ws.read_until(about("read", hidden), 500ms));
}

class UserSettings : public ChatTest {
 protected:
  std::uint16_t at(std::uint16_t port) { return port ? port : server_->port(); }
  static std::map<std::string, std::string> auth(const TestUser& u) { return {{"Authorization", "Bearer " + u.token}}; }
  HttpResult get_settings(const TestUser& u) { return request(u, "GET", kSettings); }
  HttpResult patch(const TestUser& u, const std::string& body, std::uint16_t port = 0) {
    return HttpClient(at(port)).request("PATCH", kSettings, body, auth(u));
  }
  HttpResult mark_read(const TestUser& u, long long conv, long long seq) {
    return request(u, "POST", conv_path(conv) + "/read", Json{{"seq", seq}}.dump());
  }
  Json view(const TestUser& u, long long id, std::uint16_t port = 0) {
    auto r = HttpClient(at(port)).request("GET", conv_path(id), "", auth(u));
    EXPECT_EQ(r.status, 200) << r.body;
    auto j = Json::parse(r.body, nullptr, false);
    return j.is_object() && j.contains("conversation") ? j["conversation"] : Json::object();
  }
  // `who`'s read_seq in `members` as `viewer` sees it, as JSON text ("null" included).
  std::string member_read_seq(const TestUser& viewer, long long id, const TestUser& who, std::uint16_t port = 0) {
    Json conv = view(viewer, id, port);
    for (auto& m : conv["members"]) {
      if (m.value("user_id", 0LL) == who.id) return m["read_seq"].dump();
    }
    return "absent";
  }
  std::unique_ptr<WsClient> connect(const TestUser& u, std::uint16_t port = 0) {
    auto c = std::make_unique<WsClient>(at(port), u.token);
    EXPECT_TRUE(c->connected());
    c->send({{"type", "ping"}, {"id", "ready"}});
    EXPECT_TRUE(c->read_until([](const Json& f) { return is_type(f, "pong"); }));
    return c;
  }
  // A WebSocket `read` frame; returns the read_seq of its ack, or -1.
  static long long ws_read(WsClient& ws, long long conv, long long seq) {
    ws.send({{"type", "read"}, {"id", "mark"}, {"conversation_id", conv}, {"seq", seq}});
    auto ack = ws.read_until([](const Json& f) {
      return (is_type(f, "ack") || is_type(f, "error")) && f.contains("id") && f["id"] == "mark";
    });
    if (!ack || !is_type(*ack, "ack")) {
      ADD_FAILURE() << "no ack for the read frame: " << (ack ? ack->dump() : "timeout");
      return -1;
    }
    return ack->value("read_seq", -1LL);
  }
  long long group_with_messages(const TestUser& owner, const std::vector<TestUser>& members, int messages) {
    auto id = group(owner, members);
    for (int i = 0; i < messages; ++i) {
      EXPECT_EQ(send(owner, id, "news" + std::to_string(i), "news").status, 201);
    }
    return id;
  }
};

TEST_F(UserSettings, ANewUserHasEveryoneWithReadReceiptsAndPresenceOn) {
  auto u = user("ursa");
  auto r = get_settings(u);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json()["settings"], defaults());
}

TEST_F(UserSettings, APatchChangesOnlyTheFieldsItNamesAndTheChangeLasts) {
  auto u = user("patty"), other = user("otto");
  Json expected = defaults();
  auto step = [&](const std::string& body) {
    auto r = patch(u, body);
    ASSERT_EQ(r.status, 200) << body << ": " << r.body;
    EXPECT_EQ(r.json()["settings"], expected) << body;
    EXPECT_EQ(get_settings(u).json()["settings"], expected) << body;
  };
  expected["read_receipts"] = false;
  step(R"({"read_receipts":false})");
  expected["dm_policy"] = "requests";
  step(R"({"dm_policy":"requests"})");
  step("{}");  // changes nothing, answers the current settings
  expected["dm_policy"] = "nobody";
  expected["show_presence"] = false;
  expected["read_receipts"] = true;
  step(R"({"dm_policy":"nobody","show_presence":false,"read_receipts":true})");
  // The settings are the user's, not the session's; and nobody else's.
  auto login = client().post("/v1/sessions", {{"username", "patty"}, {"password", "password-patty"}});
  ASSERT_EQ(login.status, 201) << login.body;
  auto fresh = client().get(kSettings, login.json().value("token", ""));
  EXPECT_EQ(fresh.json()["settings"], expected);
  EXPECT_EQ(get_settings(other).json()["settings"], defaults());
}

TEST_F(UserSettings, BadValuesAreRefusedNamingTheFieldAndChangeNothing) {
  auto u = user("bella");
  struct Case {
    std::string body, field;
  };
  const std::vector<Case> cases = {
      {R"({"dm_policy":"friends"})", "dm_policy"},
      {R"({"dm_policy":1})", "dm_policy"},
      {R"({"read_receipts":"no"})", "read_receipts"},
      {R"({"read_receipts":0})", "read_receipts"},
      {R"({"show_presence":"false"})", "show_presence"},
      {R"({"dm_policy":"nobody","read_receipts":"no"})", "read_receipts"},  // all or nothing
      {"[]", ""},
      {R"("everyone")", ""},
      {"not json", ""},
  };
  for (const auto& c : cases) {
    auto r = patch(u, c.body);
    expect_error(r, 400, "invalid_request");
    if (!c.field.empty()) {
      auto j = Json::parse(r.body, nullptr, false);
      std::string message = j.is_object() && j.contains("error") ? j["error"].value("message", "") : "";
      EXPECT_NE(message.find(c.field), std::string::npos) << c.body << " -> " << r.body;
    }
  }
  EXPECT_EQ(get_settings(u).json()["settings"], defaults());
}

TEST_F(UserSettings, SettingsNeedAValidToken) {
  expect_error(client().get(kSettings), 401, "unauthenticated");
  expect_error(client().request("PATCH", kSettings, R"({"dm_policy":"nobody"})"), 401, "unauthenticated");
  expect_error(client().request("PATCH", kSettings, R"({"dm_policy":"nobody"})", {{"Authorization", "Bearer nope"}}),
               401, "unauthenticated");
}

class DefaultDmPolicy : public UserSettings {
 protected:
  std::vector<std::string> extra_args() const override { return {"--default-dm-policy", "requests"}; }
};

TEST_F(DefaultDmPolicy, NewUsersTakeThePolicyOfTheFlagAndStrangersArriveAsRequests) {
  auto r = user("rena"), x = user("xeni");
  auto got = get_settings(r);
  ASSERT_EQ(got.status, 200) << got.body;
  Json expected = defaults();
  expected["dm_policy"] = "requests";
  EXPECT_EQ(got.json()["settings"], expected);
  auto created = direct(x, r);
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(view(r, created.json()["conversation"].value("id", 0LL)).value("state", ""), "request");
}

TEST_F(UserSettings, TheDefaultPolicyAlsoComesFromTheEnvironmentAndAWrongOneStopsTheStart) {
  auto early = user("early");
  ChatdProcess strict({"--database-url", db_->url(), "--listen", "127.0.0.1:0"},
                      {{"CHATD_DEFAULT_DM_POLICY", "nobody"}});
  ASSERT_TRUE(strict.start()) << strict.output();
  HttpClient there(strict.port());
  ASSERT_EQ(there.post("/v1/users", {{"username", "late"}, {"password", "password-late"}}).status, 201);
  auto login = there.post("/v1/sessions", {{"username", "late"}, {"password", "password-late"}});
  ASSERT_EQ(login.status, 201) << login.body;
  EXPECT_EQ(there.get(kSettings, login.json().value("token", "")).json()["settings"].value("dm_policy", ""), "nobody");
  EXPECT_EQ(get_settings(early).json()["settings"].value("dm_policy", ""), "everyone") << "existing users keep theirs";

  ChatdProcess bad_flag({"--default-dm-policy", "friends"}, {{"DATABASE_URL", "postgresql://x/y"}});
  EXPECT_EQ(bad_flag.run_to_exit(), 2);
  EXPECT_NE(bad_flag.output().find("--default-dm-policy"), std::string::npos) << bad_flag.output();
  ChatdProcess bad_env({}, {{"DATABASE_URL", "postgresql://x/y"}, {"CHATD_DEFAULT_DM_POLICY", "friends"}});
  EXPECT_EQ(bad_env.run_to_exit(), 2);
  EXPECT_NE(bad_env.output().find("CHATD_DEFAULT_DM_POLICY"), std::string::npos) << bad_env.output();
}

TEST_F(UserSettings, WithReadReceiptsOffOthersSeeNoReadsWhileTheUsersOwnMarkersWork) {
  auto o = user("owen"), quiet = user("quinn"), loud = user("lara");
  auto id = group_with_messages(o, {quiet, loud}, 3);  // seqs 2..4
  ASSERT_EQ(patch(quiet, R"({"read_receipts":false})").status, 200);
  auto ow = connect(o), qw = connect(quiet);

  auto rest = mark_read(quiet, id, 3);
  ASSERT_EQ(rest.status, 200) << rest.body;
  EXPECT_EQ(rest.json()["read_seq"], 3);
  EXPECT_EQ(view(quiet, id).value("unread_count", -1), 1);
  EXPECT_EQ(ws_read(*qw, id, 4), 4);
  ASSERT_EQ(mark_read(loud, id, 4).status, 200);  // the control: a member with receipts on
  expect_only_control_reads(*ow, quiet.id, loud.id);

  EXPECT_EQ(member_read_seq(o, id, quiet), "null");
  EXPECT_EQ(member_read_seq(o, id, loud), "4");
  EXPECT_EQ(member_read_seq(quiet, id, quiet), "4") << "the user sees their own marker";
  auto mine = view(quiet, id);
  EXPECT_EQ(mine.value("read_seq", 0LL), 4);
  EXPECT_EQ(mine.value("unread_count", -1), 0);
}

TEST_F(UserSettings, ReadReceiptsOffHoldForAMemberConnectedToAnotherInstance) {
  ChatdProcess other({"--database-url", db_->url(), "--listen", "127.0.0.1:0"});
  ASSERT_TRUE(other.start()) << other.output();
  auto o = user("olive"), quiet = user("quade"), loud = user("lena");
  auto id = group_with_messages(o, {quiet, loud}, 2);  // seqs 2..3
  ASSERT_EQ(patch(quiet, R"({"read_receipts":false})").status, 200);
  auto there = connect(o, other.port());
  auto qw = connect(quiet);

  ASSERT_EQ(mark_read(quiet, id, 2).status, 200);
  EXPECT_EQ(ws_read(*qw, id, 3), 3);
  ASSERT_EQ(mark_read(loud, id, 3).status, 200);
  expect_only_control_reads(*there, quiet.id, loud.id);
  EXPECT_EQ(member_read_seq(o, id, quiet, other.port()), "null");
  EXPECT_EQ(member_read_seq(o, id, loud, other.port()), "3");
}

TEST_F(UserSettings, TurningReadReceiptsOffOnOneInstanceHoldsAtOnceOnTheOther) {
  ChatdProcess other({"--database-url", db_->url(), "--listen", "127.0.0.1:0"});
  ASSERT_TRUE(other.start()) << other.output();
  auto o = user("oscar"), quiet = user("quentin"), loud = user("lucy");
  auto id = group_with_messages(o, {quiet, loud}, 3);  // seqs 2..4
  auto here = connect(o), there = connect(o, other.port());
  // With receipts on, quiet's read reaches both instances (and warms whatever they keep).
  ASSERT_EQ(mark_read(quiet, id, 2).status, 200);
  for (auto* ws : {here.get(), there.get()}) EXPECT_TRUE(ws->read_until(about("read", quiet.id)));

  ASSERT_EQ(patch(quiet, R"({"read_receipts":false})", other.port()).status, 200);
  ASSERT_EQ(mark_read(quiet, id, 3).status, 200);  // right after, through the first instance
  ASSERT_EQ(mark_read(loud, id, 4).status, 200);
  for (auto* ws : {here.get(), there.get()}) expect_only_control_reads(*ws, quiet.id, loud.id);
  EXPECT_EQ(member_read_seq(o, id, quiet), "null");
}

TEST_F(UserSettings, WithShowPresenceOffNoPresenceGoesOutAboutTheUserNorReachesThem) {
  auto hidden = user("hedda"), watcher = user("wanda"), shown = user("sean");
  group(watcher, {hidden, shown});
  ASSERT_EQ(patch(hidden, R"({"show_presence":false})").status, 200);
  auto ww = connect(watcher);
  auto hw = connect(hidden);
  auto sw = connect(shown);
  // The control: shown's coming online reaches the watcher; hidden's, before
  // it, did not. (Hiding may send one `online: false`, should its notice be
  // handled after the socket opened: it reveals nothing. Never `true`.)
  std::vector<Json> before;
  ASSERT_TRUE(ww->read_until(presence(shown.id, true), 5s, &before));
  EXPECT_FALSE(std::any_of(before.begin(), before.end(), presence(hidden.id, true)));
  EXPECT_FALSE(ww->read_until(presence(hidden.id, true), 1500ms));
  EXPECT_FALSE(hw->read_until([](const Json& f) { return is_type(f, "presence"); }, 500ms))
      << "the user hears of nobody";

  // Switched back on, the user hears of others again.
  ASSERT_EQ(patch(hidden, R"({"show_presence":true})").status, 200);
  sw.reset();
  EXPECT_TRUE(hw->read_until(presence(shown.id, false), 5s));
}

TEST_F(UserSettings, HidingPresenceWhileOnlineShowsTheUserOfflineAndShowingItAgainOnline) {
  auto user_a = user("hana"), watcher = user("walt");
  direct(watcher, user_a);
  auto ww = connect(watcher);
  auto aw = connect(user_a);
  ASSERT_TRUE(ww->read_until(presence(user_a.id, true), 5s));
  // Hidden while connected: contacts must not keep seeing "online".
  ASSERT_EQ(patch(user_a, R"({"show_presence":false})").status, 200);
  EXPECT_TRUE(ww->read_until(presence(user_a.id, false), 5s));
  ASSERT_EQ(patch(user_a, R"({"show_presence":true})").status, 200);
  EXPECT_TRUE(ww->read_until(presence(user_a.id, true), 5s));
  // Shown again while away: nothing claims they are online.
  ASSERT_EQ(patch(user_a, R"({"show_presence":false})").status, 200);
  ASSERT_TRUE(ww->read_until(presence(user_a.id, false), 5s));
  aw.reset();
  std::this_thread::sleep_for(1s);  // the instance drops the user's presence row
  ASSERT_EQ(patch(user_a, R"({"show_presence":true})").status, 200);
  EXPECT_FALSE(ww->read_until(about("presence", user_a.id), 1500ms));
}

}  // namespace
}  // namespace chatd::test
