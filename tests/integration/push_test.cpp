// The push outbox (API.md "Push hand-off (v1.1)"): what a push gateway
// listening on --push-webhook receives, when, how often, and what it never
// receives. The gateway is a WebhookSink in this process.
#include <signal.h>

#include <chrono>
#include <compare>
#include <ctime>
#include <functional>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "chat_fixture.hpp"
#include "webhook_sink.hpp"
#include "ws_client.hpp"

namespace chatd::test {
namespace {

using namespace std::chrono_literals;
using Requests = std::vector<SinkRequest>;

// One job as a POST names it.
struct Job {
  long long user = 0;
  long long conversation = 0;
  long long seq = 0;
  auto operator<=>(const Job&) const = default;
};

std::ostream& operator<<(std::ostream& out, const Job& j) {
  return out << "user " << j.user << ", conversation " << j.conversation << ", seq " << j.seq;
}

long long user_of(const SinkRequest& r) {
  return r.json.is_object() ? r.json.value("user_id", 0LL) : 0LL;
}

// The jobs a POST carried: its `jobs` array (or, without one, the job its top
// level names).
std::vector<Job> jobs_of(const SinkRequest& r) {
  std::vector<Job> out;
  if (!r.json.is_object()) return out;
  auto jobs = r.json.find("jobs");
  if (jobs == r.json.end() || !jobs->is_array()) {
    out.push_back({user_of(r), r.json.value("conversation_id", 0LL), r.json.value("seq", 0LL)});
    return out;
  }
  for (const auto& j : *jobs) {
    if (!j.is_object()) continue;
    out.push_back({user_of(r), j.value("conversation_id", 0LL), j.value("seq", 0LL)});
  }
  return out;
}

Requests to_user(const Requests& all, long long user) {
  Requests out;
  for (const auto& r : all) {
    if (user_of(r) == user) out.push_back(r);
  }
  return out;
}

// How many POSTs the sink answered 200 carried this job: a delivery.
int delivered(const Requests& all, long long user, long long conversation, long long seq) {
  int n = 0;
  for (const auto& r : all) {
    if (r.status != 200) continue;
    for (const auto& j : jobs_of(r)) {
      if (j == Job{user, conversation, seq}) ++n;
    }
  }
  return n;
}

template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds timeout = 10s) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (pred()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(50ms);
  }
}

long long ms(std::chrono::steady_clock::duration d) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

// The sum of a metric's samples over its label sets; -1 when it is absent.
double metric_value(const std::string& text, const std::string& name) {
  std::istringstream in(text);
  std::string line;
  double sum = 0;
  bool found = false;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    auto end = line.find_first_of("{ ");
    if (end != name.size() || line.compare(0, end, name) != 0) continue;
    auto value_at = line[end] == '{' ? line.rfind('}') + 1 : end;
    std::istringstream rest(line.substr(value_at));
    double v = 0;
    if (rest >> v) {
      sum += v;
      found = true;
    }
  }
  return found ? sum : -1;
}

double metric_at(std::uint16_t port, const std::string& name) {
  HttpClient c(port);
  auto r = c.get("/metrics");
  return r.status == 200 ? metric_value(r.body, name) : -1;
}

// RFC 3339 UTC, whole seconds.
std::string rfc3339(std::chrono::system_clock::time_point t) {
  auto secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  ::gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

bool is_pong(const Json& f) { return f.value("type", "") == "pong"; }

// Helpers shared by the fixtures with and without a webhook.
class PushBase : public ChatTest {
 protected:
  static long long seq_of(const HttpResult& r) { return r.json()["message"].value("seq", 0LL); }

  long long direct_id(const TestUser& me, const TestUser& peer) {
    auto r = direct(me, peer);
    EXPECT_TRUE(r.status == 201 || r.status == 200) << r.body;
    return r.json()["conversation"].value("id", 0LL);
  }
  // Rows in the outbox (that match `where`).
  long long outbox(const std::string& where = "") {
    return std::stoll(db_->query("SELECT count(*) FROM push_jobs" + (where.empty() ? "" : " WHERE " + where)));
  }
  long long jobs_for(const TestUser& u) { return outbox("user_id = " + std::to_string(u.id)); }
  bool outbox_empties(std::chrono::milliseconds timeout = 10s) {
    return eventually([&] { return outbox() == 0; }, timeout);
  }
  double metric(const std::string& name) { return metric_at(server_->port(), name); }
  bool metric_reaches(const std::string& name, double at_least) {
    return eventually([&] { return metric(name) >= at_least; });
  }
  // The arguments SetUp gave chatd: for another instance, or a restart, on the same database.
  std::vector<std::string> chatd_args() const {
    std::vector<std::string> args = {"--database-url", db_->url(), "--listen", "127.0.0.1:0",
                                     "--threads", "2", "--db-pool", "4"};
    for (const auto& a : extra_args()) args.push_back(a);
    return args;
  }
};

// chatd with a webhook; the sink listens before chatd starts.
class Push : public PushBase {
 protected:
  Push() { sink_.start(); }
  std::vector<std::string> extra_args() const override {
    std::vector<std::string> args = {"--push-webhook", sink_.url(), "--push-delay", push_delay()};
    for (const auto& a : push_flags()) args.push_back(a);
    return args;
  }
  virtual std::string push_delay() const { return "300ms"; }
  virtual std::vector<std::string> push_flags() const { return {}; }

  Requests pushes_to(const TestUser& u) const { return to_user(sink_.requests(), u.id); }
  // Waits until a POST the sink answered 200 carried this job.
  bool push_arrives(const TestUser& u, long long conversation, long long seq,
                    std::chrono::milliseconds timeout = 10s) {
    return sink_.wait_until(
        [&](const Requests& all) { return delivered(all, u.id, conversation, seq) >= 1; }, timeout);
  }
  // The 200-answered POST to u that named seq at its top level.
  SinkRequest push_naming(const TestUser& u, long long seq) const {
    for (const auto& r : pushes_to(u)) {
      if (r.status == 200 && r.json.value("seq", 0LL) == seq) return r;
    }
    ADD_FAILURE() << "no push to user " << u.id << " names seq " << seq;
    return {};
  }

  WebhookSink sink_;
};

// Long enough that three quick sends fall due within one second of each other.
class PushCoalescing : public Push {
 protected:
  std::string push_delay() const override { return "1s"; }
};

// A window in which to read before the job falls due.
class PushReadWindow : public Push {
 protected:
  std::string push_delay() const override { return "2s"; }
};

class PushTimeout : public Push {
 protected:
  std::vector<std::string> push_flags() const override { return {"--push-timeout", "500ms"}; }
};

class PushGiveUp : public Push {
 protected:
  std::vector<std::string> push_flags() const override { return {"--push-give-up", "2s"}; }
};

// Nothing falls due during the test: the outbox can be read as it was committed.
class PushOutbox : public Push {
 protected:
  std::string push_delay() const override { return "30s"; }
};

class NoPush : public PushBase {};

TEST_F(Push, AMessageToAnOfflineMemberReachesTheWebhookOnceWithItsPreview) {
  auto a = user("ada"), b = user("bob");
  auto id = direct_id(a, b);
  auto sent = send(a, id, "m1", "hello there");
  ASSERT_EQ(sent.status, 201) << sent.body;
  auto seq = seq_of(sent);
  // Nothing has fallen due yet: every job of the message is in the outbox.
  EXPECT_EQ(jobs_for(a), 0) << "the sender gets no job";

  ASSERT_TRUE(push_arrives(b, id, seq)) << server_->output();
  auto pushes = pushes_to(b);
  ASSERT_EQ(pushes.size(), 1u);
  const auto& p = pushes[0];
  EXPECT_EQ(p.method, "POST");
  EXPECT_EQ(p.target, "/push");
  EXPECT_EQ(p.header("content-type").rfind("application/json", 0), 0u) << p.header("content-type");
  ASSERT_TRUE(p.json.is_object()) << p.body;
  EXPECT_EQ(p.json.value("user_id", 0LL), b.id);
  EXPECT_EQ(p.json.value("conversation_id", 0LL), id);
  EXPECT_EQ(p.json.value("seq", 0LL), seq);
  EXPECT_EQ(p.json.value("sender_id", 0LL), a.id);
  EXPECT_EQ(p.json.value("preview", ""), "hello there");
  EXPECT_EQ(p.json.value("unread_total", -1), 1);
  EXPECT_EQ(p.json.value("messages", 0), 1);
  ASSERT_TRUE(p.json.contains("jobs")) << p.body;
  EXPECT_EQ(p.json.at("jobs"), Json::array({Json{{"conversation_id", id}, {"seq", seq}}})) << p.body;
  auto key = p.header("idempotency-key");
  std::smatch m;
  ASSERT_TRUE(std::regex_match(key, m, std::regex(std::to_string(b.id) + R"(:(\d+)-(\d+))")))
      << "Idempotency-Key: '" << key << "'";
  EXPECT_EQ(m[1].str(), m[2].str()) << "one job: the first and the last job are the same";
  EXPECT_TRUE(metric_reaches("chatd_push_delivered_total", 1));

  // A long body is cut to 100 characters, not bytes: 8 characters (one of
  // them a 4-byte emoji) and then CJK, 3 bytes each.
  std::string prefix = "Grüße 😀 ";
  std::string body = prefix, cut = prefix;
  for (int i = 0; i < 150; ++i) body += "漢";
  for (int i = 0; i < 92; ++i) cut += "漢";
  auto long_sent = send(a, id, "m2", body);
  ASSERT_EQ(long_sent.status, 201) << long_sent.body;
  auto seq2 = seq_of(long_sent);
  ASSERT_TRUE(push_arrives(b, id, seq2)) << server_->output();
  auto second = push_naming(b, seq2);
  EXPECT_EQ(second.json.value("preview", ""), cut);
  EXPECT_EQ(second.json.value("unread_total", -1), 2);
  EXPECT_EQ(second.json.value("messages", 0), 1);

  ASSERT_TRUE(outbox_empties());
  auto all = sink_.requests();
  EXPECT_EQ(delivered(all, b.id, id, seq), 1);
  EXPECT_EQ(delivered(all, b.id, id, seq2), 1);
  EXPECT_EQ(to_user(all, b.id).size(), 2u);
  EXPECT_TRUE(to_user(all, a.id).empty()) << "the sender is not pushed";
  EXPECT_TRUE(metric_reaches("chatd_push_delivered_total", 2));
  EXPECT_EQ(metric("chatd_push_delivered_total"), 2);
  EXPECT_EQ(metric("chatd_push_skipped_total"), 0);
  EXPECT_EQ(metric("chatd_push_failed_total"), 0);
  // Latency runs from the message's commit, so it holds the 300 ms delay of each.
  EXPECT_TRUE(metric_reaches("chatd_push_latency_seconds_count", 2));
  EXPECT_GE(metric("chatd_push_latency_seconds_sum"), 0.6);
}

TEST_F(PushCoalescing, MessagesFallingDueWithinASecondGoAsOnePost) {
  auto a = user("cora"), b = user("cole");
  auto id = direct_id(a, b);
  std::set<long long> seqs;
  long long newest = 0;
  for (int i = 1; i <= 3; ++i) {
    auto r = send(a, id, "c" + std::to_string(i), "message " + std::to_string(i));
    ASSERT_EQ(r.status, 201) << r.body;
    newest = seq_of(r);
    seqs.insert(newest);
  }
  ASSERT_TRUE(push_arrives(b, id, newest)) << server_->output();
  ASSERT_TRUE(outbox_empties());
  auto pushes = pushes_to(b);
  ASSERT_EQ(pushes.size(), 1u) << "one POST for the three messages";
  const auto& p = pushes[0];
  EXPECT_EQ(p.json.value("messages", 0), 3);
  EXPECT_EQ(p.json.value("conversation_id", 0LL), id);
  EXPECT_EQ(p.json.value("seq", 0LL), newest);
  EXPECT_EQ(p.json.value("sender_id", 0LL), a.id);
  EXPECT_EQ(p.json.value("preview", ""), "message 3");
  EXPECT_EQ(p.json.value("unread_total", -1), 3);
  std::set<long long> carried;
  for (const auto& j : jobs_of(p)) {
    EXPECT_EQ(j.conversation, id);
    carried.insert(j.seq);
  }
  EXPECT_EQ(jobs_of(p).size(), 3u) << p.body;
  EXPECT_EQ(carried, seqs) << p.body;
  auto key = p.header("idempotency-key");
  std::smatch m;
  ASSERT_TRUE(std::regex_match(key, m, std::regex(std::to_string(b.id) + R"(:(\d+)-(\d+))")))
      << "Idempotency-Key: '" << key << "'";
  EXPECT_LT(std::stoll(m[1].str()), std::stoll(m[2].str())) << "first job id, then last: " << key;
  EXPECT_TRUE(metric_reaches("chatd_push_delivered_total", 3)) << "counted in jobs, not POSTs";
}

TEST(PushSettings, AnHttpsWebhookIsRefusedAtStartNamingTheFlag) {
  ChatdProcess https({"--push-webhook", "https://push.example.com/push"},
                     {{"DATABASE_URL", "postgresql://x/y"}});
  EXPECT_EQ(https.run_to_exit(), 2) << https.output();
  EXPECT_NE(https.output().find("--push-webhook"), std::string::npos) << https.output();
}

TEST_F(NoPush, WithoutAWebhookNoJobIsWritten) {
  auto a = user("nia"), b = user("noel"), c = user("nico");
  auto d = direct_id(a, b);
  auto g = group(a, {b, c});
  ASSERT_EQ(send(a, d, "n1", "direct").status, 201);
  ASSERT_EQ(send(b, g, "n2", "to the group").status, 201);
  EXPECT_EQ(outbox(), 0);
}

TEST_F(Push, NoPushGoesToAUserWithAnOpenWebSocketOnAnyInstance) {
  auto o = user("olga"), on = user("otto"), off = user("oscar");
  auto id = group(o, {on, off});
  // The socket is held by a second instance without a webhook: this
  // instance's workers do all the pushing and must see the user online there.
  ChatdProcess other({"--database-url", db_->url(), "--listen", "127.0.0.1:0"});
  ASSERT_TRUE(other.start()) << other.output();
  WsClient watcher(server_->port(), o.token);
  ASSERT_TRUE(watcher.connected());
  watcher.send({{"type", "ping"}, {"id", 1}});
  ASSERT_TRUE(watcher.read_until(is_pong));
  WsClient ws(other.port(), on.token);
  ASSERT_TRUE(ws.connected());
  // Presence is recorded (and announced) once the instance has written it.
  ASSERT_TRUE(watcher.read_until([&](const Json& f) {
    return f.value("type", "") == "presence" && f.value("user_id", 0LL) == on.id && f.value("online", false);
  })) << "the user is not online yet";

  auto sent = send(o, id, "w1", "who is around?");
  ASSERT_EQ(sent.status, 201) << sent.body;
  auto seq = seq_of(sent);
  ASSERT_TRUE(push_arrives(off, id, seq)) << "the offline member is pushed\n" << server_->output();
  // Both jobs fell due together; once the outbox is empty the online user's is settled.
  ASSERT_TRUE(outbox_empties());
  EXPECT_TRUE(pushes_to(on).empty()) << "pushed while connected to another instance";
  EXPECT_TRUE(metric_reaches("chatd_push_skipped_total", 1));
}

TEST_F(PushReadWindow, NoPushGoesToAUserWhoReadTheMessageBeforeItFellDue) {
  auto s = user("sara"), r = user("rita"), c = user("carl");
  auto id = group(s, {r, c});
  auto sent = send(s, id, "r1", "read me");
  ASSERT_EQ(sent.status, 201) << sent.body;
  auto seq = seq_of(sent);
  auto read = request(r, "POST", conv_path(id) + "/read", Json{{"seq", seq}}.dump());
  ASSERT_EQ(read.status, 200) << read.body;
  ASSERT_EQ(jobs_for(r), 1) << "the read came before the job fell due";

  ASSERT_TRUE(push_arrives(c, id, seq)) << "the member who did not read is pushed\n" << server_->output();
  ASSERT_TRUE(outbox_empties());
  EXPECT_TRUE(pushes_to(r).empty()) << "pushed about a message already read";
  EXPECT_TRUE(metric_reaches("chatd_push_skipped_total", 1));
}

TEST_F(Push, AMuteInForceMakesNoJobAndAnExpiredMuteDoes) {
  auto s = user("sven"), forever = user("fern"), until = user("ulla"), expired = user("ezra"),
       control = user("cleo");
  auto id = group(s, {forever, until, expired, control});
  ASSERT_EQ(request(forever, "PUT", conv_path(id) + "/mute").status, 200);
  ASSERT_EQ(request(until, "PUT", conv_path(id) + "/mute", R"({"until":"2099-01-01T00:00:00Z"})").status, 200);
  // A mute that runs out in a moment.
  auto ends = std::chrono::ceil<std::chrono::seconds>(std::chrono::system_clock::now() + 1500ms);
  auto short_mute = request(expired, "PUT", conv_path(id) + "/mute", Json{{"until", rfc3339(ends)}}.dump());
  ASSERT_EQ(short_mute.status, 200) << short_mute.body;
  ASSERT_EQ(short_mute.json()["conversation"].value("muted", false), true) << short_mute.body;
  std::this_thread::sleep_until(ends + 300ms);

  auto sent = send(s, id, "x1", "anyone?");
  ASSERT_EQ(sent.status, 201) << sent.body;
  auto seq = seq_of(sent);
  EXPECT_EQ(jobs_for(forever), 0) << "muted until unmuted";
  EXPECT_EQ(jobs_for(until), 0) << "muted until 2099";
  ASSERT_TRUE(push_arrives(expired, id, seq)) << "an expired mute is no mute\n" << server_->output();
  ASSERT_TRUE(push_arrives(control, id, seq));
  ASSERT_TRUE(outbox_empties());
  EXPECT_TRUE(pushes_to(forever).empty());
  EXPECT_TRUE(pushes_to(until).empty());

  // Unmuted, the next message pushes again.
  ASSERT_EQ(request(forever, "DELETE", conv_path(id) + "/mute").status, 200);
  auto again = send(s, id, "x2", "now?");
  ASSERT_EQ(again.status, 201) << again.body;
  EXPECT_TRUE(push_arrives(forever, id, seq_of(again)));
}

TEST_F(Push, AMessageRequestMakesNoJobAndIsNotInUnreadTotalUntilAccepted) {
  auto r = user("rhea"), pal = user("finn"), stranger = user("stan");
  auto with_pal = direct_id(pal, r);  // while r takes everyone: in r's inbox
  ASSERT_EQ(request(r, "PATCH", "/v1/users/me/settings", R"({"dm_policy":"requests"})").status, 200);
  auto opened = direct(stranger, r);
  ASSERT_EQ(opened.status, 201) << opened.body;
  auto asked_in = opened.json()["conversation"].value("id", 0LL);
  ASSERT_EQ(request(r, "GET", conv_path(asked_in)).json()["conversation"].value("state", ""), "request");
  auto asked = send(stranger, asked_in, "s1", "hi, remember me?");
  ASSERT_EQ(asked.status, 201) << asked.body;
  EXPECT_EQ(jobs_for(r), 0) << "a message request makes no job";

  auto hello = send(pal, with_pal, "f1", "lunch?");
  ASSERT_EQ(hello.status, 201) << hello.body;
  ASSERT_TRUE(push_arrives(r, with_pal, seq_of(hello))) << server_->output();
  ASSERT_TRUE(outbox_empties());
  auto pushes = pushes_to(r);
  ASSERT_EQ(pushes.size(), 1u) << "nothing about the request";
  EXPECT_EQ(pushes[0].json.value("unread_total", -1), 1) << "the request's message is not in the inbox";

  ASSERT_EQ(request(r, "POST", conv_path(asked_in) + "/accept").status, 200);
  auto after = send(stranger, asked_in, "s2", "thanks!");
  ASSERT_EQ(after.status, 201) << after.body;
  ASSERT_TRUE(push_arrives(r, asked_in, seq_of(after))) << "accepted, it pushes";
  EXPECT_EQ(push_naming(r, seq_of(after)).json.value("unread_total", -1), 3);
}

TEST_F(Push, AFailingWebhookIsRetriedWithBackoffAndDeliveredOnce) {
  auto a = user("rae"), b = user("rob");
  auto id = direct_id(a, b);
  sink_.fail_next(2);
  auto sent = send(a, id, "d1", "are you there?");
  ASSERT_EQ(sent.status, 201) << sent.body;
  auto seq = seq_of(sent);
  ASSERT_TRUE(push_arrives(b, id, seq, 15s)) << server_->output();
  ASSERT_TRUE(outbox_empties());
  auto tries = pushes_to(b);
  ASSERT_EQ(tries.size(), 3u) << "two refused, then one accepted";
  EXPECT_EQ(tries[0].status, 500);
  EXPECT_EQ(tries[1].status, 500);
  EXPECT_EQ(tries[2].status, 200);
  EXPECT_EQ(delivered(sink_.requests(), b.id, id, seq), 1);
  // Backoff: 1 s after the first failure, 2 s after the second.
  auto gap1 = ms(tries[1].at - tries[0].at), gap2 = ms(tries[2].at - tries[1].at);
  EXPECT_GE(gap1, 900);
  EXPECT_LT(gap1, 4000);
  EXPECT_GE(gap2, 1800);
  // Retries of the same jobs keep their key, so the gateway can tell them apart from new pushes.
  EXPECT_EQ(tries[1].header("idempotency-key"), tries[0].header("idempotency-key"));
  EXPECT_EQ(tries[2].header("idempotency-key"), tries[0].header("idempotency-key"));
  EXPECT_FALSE(tries[0].header("idempotency-key").empty());
  EXPECT_TRUE(metric_reaches("chatd_push_retries_total", 2));
  EXPECT_TRUE(metric_reaches("chatd_push_delivered_total", 1));
  EXPECT_EQ(metric("chatd_push_delivered_total"), 1);
  EXPECT_EQ(metric("chatd_push_failed_total"), 0) << "retried, not failed";
}

TEST_F(PushTimeout, AWebhookThatDoesNotAnswerIsTimedOutAndRetried) {
  auto a = user("tia"), b = user("tom");
  auto id = direct_id(a, b);
  sink_.hang(true);
  auto sent = send(a, id, "t1", "hello?");
  ASSERT_EQ(sent.status, 201) << sent.body;
  auto seq = seq_of(sent);
  ASSERT_TRUE(sink_.wait_until([&](const Requests& all) { return !to_user(all, b.id).empty(); }, 10s))
      << server_->output();
  sink_.hang(false);
  ASSERT_TRUE(push_arrives(b, id, seq)) << server_->output();
  ASSERT_TRUE(outbox_empties());
  auto tries = pushes_to(b);
  ASSERT_EQ(tries.size(), 2u);
  EXPECT_EQ(tries[0].status, 0) << "the first was never answered";
  EXPECT_EQ(tries[1].status, 200);
  // 500 ms of --push-timeout, then 1 s of backoff; the 5 s default would be well over.
  auto gap = ms(tries[1].at - tries[0].at);
  EXPECT_GE(gap, 1400);
  EXPECT_LT(gap, 4000);
  EXPECT_EQ(delivered(sink_.requests(), b.id, id, seq), 1);
  EXPECT_TRUE(metric_reaches("chatd_push_retries_total", 1));
}

TEST_F(Push, ARetryGoesAsTheSamePostEvenWhenNewMessagesFallDueBesideIt) {
  auto a = user("tia"), b = user("tom");
  auto id = direct_id(a, b);
  sink_.fail_next(1);
  auto first = send(a, id, "k1", "first");
  ASSERT_EQ(first.status, 201) << first.body;
  ASSERT_TRUE(sink_.wait_for(1, 10s)) << "the first attempt";
  // The retry falls due 1 s after the failure; this one falls due about then too.
  std::this_thread::sleep_for(700ms);
  auto second = send(a, id, "k2", "second");
  ASSERT_EQ(second.status, 201) << second.body;
  ASSERT_TRUE(push_arrives(b, id, seq_of(second), 15s));
  ASSERT_TRUE(push_arrives(b, id, seq_of(first), 15s));
  ASSERT_TRUE(outbox_empties());
  auto tries = pushes_to(b);
  ASSERT_GE(tries.size(), 3u);
  EXPECT_EQ(tries[0].status, 500);
  int retries = 0;
  for (std::size_t i = 1; i < tries.size(); ++i) {
    if (tries[i].header("idempotency-key") != tries[0].header("idempotency-key")) continue;
    ++retries;
    ASSERT_EQ(jobs_of(tries[i]).size(), 1u) << "the failed POST again, nothing added: " << tries[i].body;
    EXPECT_EQ(jobs_of(tries[i])[0].seq, seq_of(first));
  }
  EXPECT_EQ(retries, 1) << "the retry keeps its Idempotency-Key, so a gateway can drop a repeat";
}

TEST_F(Push, AJobSurvivesAKilledServerAndIsDeliveredOnceAfterTheRestart) {
  auto a = user("kai"), b = user("kim");
  auto id = direct_id(a, b);
  sink_.fail_all(true);
  auto sent = send(a, id, "k1", "still there after a crash?");
  ASSERT_EQ(sent.status, 201) << sent.body;
  auto seq = seq_of(sent);
  ASSERT_TRUE(sink_.wait_until([&](const Requests& all) { return !to_user(all, b.id).empty(); }, 10s))
      << server_->output();
  // The failure is on record: the job waits for its retry.
  ASSERT_TRUE(eventually([&] { return outbox("due_at > now()") == 1; })) << server_->output();
  server_->signal(SIGKILL);
  EXPECT_EQ(server_->wait(), 128 + SIGKILL);
  sink_.fail_all(false);
  ASSERT_EQ(outbox(), 1) << "the job outlived the server";

  server_ = std::make_unique<ChatdProcess>(chatd_args());
  ASSERT_TRUE(server_->start()) << server_->output();
  ASSERT_TRUE(push_arrives(b, id, seq)) << server_->output();
  ASSERT_TRUE(outbox_empties());
  EXPECT_EQ(delivered(sink_.requests(), b.id, id, seq), 1);
  EXPECT_TRUE(metric_reaches("chatd_push_delivered_total", 1));
}

TEST_F(Push, TwoInstancesDeliverEveryJobExactlyOnce) {
  ChatdProcess other(chatd_args());
  ASSERT_TRUE(other.start()) << other.output();
  auto s1 = user("sia"), s2 = user("sol");
  auto u1 = user("una"), u2 = user("uma"), u3 = user("udo"), u4 = user("uri");
  // One sender per conversation and recipients who never write or read: no
  // job is ever skipped, so every one of them must be delivered.
  struct Conversation {
    long long id;
    TestUser sender;
    std::vector<TestUser> recipients;
  };
  std::vector<Conversation> conversations = {
      {group(s1, {u1, u2, u3}, "one"), s1, {u1, u2, u3}},
      {group(s2, {u2, u3, u4}, "two"), s2, {u2, u3, u4}},
      {direct_id(s1, u4), s1, {u4}},
      {direct_id(s2, u1), s2, {u1}},
  };
  HttpClient here(server_->port()), there(other.port());
  std::set<Job> expected;
  for (int i = 0; i < 20; ++i) {
    const auto& c = conversations[static_cast<std::size_t>(i) % conversations.size()];
    auto& via = (i / 4) % 2 == 0 ? here : there;  // each conversation through both instances
    auto r = via.post(conv_path(c.id) + "/messages",
                      {{"client_msg_id", "t" + std::to_string(i)}, {"body", "message " + std::to_string(i)}},
                      c.sender.token);
    ASSERT_EQ(r.status, 201) << r.body;
    for (const auto& u : c.recipients) expected.insert(Job{u.id, c.id, seq_of(r)});
  }
  ASSERT_EQ(expected.size(), 40u);

  auto carried = [](const Requests& all) {
    std::size_t n = 0;
    for (const auto& r : all) {
      if (r.status == 200) n += jobs_of(r).size();
    }
    return n;
  };
  ASSERT_TRUE(sink_.wait_until([&](const Requests& all) { return carried(all) >= expected.size(); }, 15s))
      << server_->output() << other.output();
  ASSERT_TRUE(outbox_empties());
  std::this_thread::sleep_for(500ms);  // room for a duplicate to show

  std::map<Job, int> seen;
  std::set<std::string> keys;
  for (const auto& r : sink_.requests()) {
    ASSERT_TRUE(r.json.is_object()) << r.body;
    EXPECT_EQ(r.status, 200);
    auto key = r.header("idempotency-key");
    EXPECT_FALSE(key.empty());
    EXPECT_TRUE(keys.insert(key).second) << "Idempotency-Key repeated: " << key;
    auto jobs = jobs_of(r);
    EXPECT_EQ(r.json.value("messages", std::size_t{0}), jobs.size()) << r.body;
    for (const auto& j : jobs) ++seen[j];
  }
  for (const auto& j : expected) EXPECT_EQ(seen[j], 1) << j;
  EXPECT_EQ(seen.size(), expected.size()) << "jobs nobody should have had";
  EXPECT_TRUE(eventually([&] {
    return metric("chatd_push_delivered_total") + metric_at(other.port(), "chatd_push_delivered_total") == 40;
  })) << "between them the instances count each job once";
}

TEST_F(PushGiveUp, AJobStillFailingAfterTheGiveUpTimeIsDroppedAndCountedFailed) {
  auto a = user("gia"), b = user("gus");
  auto id = direct_id(a, b);
  sink_.fail_all(true);
  auto sent = send(a, id, "g1", "never arrives");
  ASSERT_EQ(sent.status, 201) << sent.body;
  auto seq = seq_of(sent);
  ASSERT_TRUE(sink_.wait_for(1, 10s)) << server_->output();
  ASSERT_TRUE(outbox_empties(15s)) << "dropped after --push-give-up\n" << server_->output();
  EXPECT_TRUE(metric_reaches("chatd_push_failed_total", 1));
  EXPECT_EQ(metric("chatd_push_failed_total"), 1);
  EXPECT_EQ(metric("chatd_push_delivered_total"), 0);
  auto tried = pushes_to(b).size();
  EXPECT_GE(tried, 2u) << "retried before giving up";
  // Dropped, not postponed: a webhook that is back gets nothing more.
  sink_.fail_all(false);
  std::this_thread::sleep_for(1500ms);
  EXPECT_EQ(pushes_to(b).size(), tried);
  EXPECT_EQ(delivered(sink_.requests(), b.id, id, seq), 0);
}

TEST_F(PushOutbox, TheJobsCommitWithTheMessageAndARefusedSendLeavesNone) {
  auto o = user("odin"), a = user("abby"), b = user("bert"), stranger = user("sten");
  auto id = group(o, {a, b});
  auto sent = send(o, id, "j1", "see you at ten");
  ASSERT_EQ(sent.status, 201) << sent.body;
  auto seq = seq_of(sent);
  // Right after the 201: one job per other member, naming the message.
  EXPECT_EQ(outbox(), 2);
  EXPECT_EQ(jobs_for(a), 1);
  EXPECT_EQ(jobs_for(b), 1);
  EXPECT_EQ(jobs_for(o), 0);
  EXPECT_EQ(outbox("conversation_id = " + std::to_string(id) + " AND seq = " + std::to_string(seq) +
                   " AND sender_id = " + std::to_string(o.id)),
            2);
  EXPECT_EQ(outbox("due_at > now() + interval '20 seconds'"), 2) << "due --push-delay after the message";

  // A safe retry stores nothing new and makes no job; refused sends make none.
  EXPECT_EQ(send(o, id, "j1", "see you at ten").status, 200);
  expect_error(send(stranger, id, "j2", "let me in"), 404, "not_found");
  expect_error(send(o, id, "j3", ""), 400, "invalid_request");
  EXPECT_EQ(outbox(), 2);

  // The WebSocket send path writes its jobs before the ack too.
  WsClient ws(server_->port(), o.token);
  ASSERT_TRUE(ws.connected());
  ws.send({{"type", "send"}, {"id", "w"}, {"conversation_id", id}, {"client_msg_id", "j4"}, {"body", "by socket"}});
  auto ack = ws.read_until([](const Json& f) { return f.value("type", "") == "ack"; });
  ASSERT_TRUE(ack);
  EXPECT_EQ(outbox(), 4);
  EXPECT_TRUE(eventually([&] { return metric("chatd_push_jobs_pending") == 4; }, 5s))
      << "the gauge is refreshed about every second";
  EXPECT_TRUE(sink_.requests().empty());
}

}  // namespace
}  // namespace chatd::test
