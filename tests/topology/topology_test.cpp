// Fault tests of the production topology (scripts/cluster.sh): HAProxy in
// front of several chatd instances, PostgreSQL under Patroni with a
// synchronous standby. scripts/fault-test.sh starts the cluster and runs this
// binary with CHATD_CLUSTER_DIR and CHATD_CLUSTER_PORT set.
//
// Every test runs the same load: WebSocket clients (a user each) send through
// HAProxy into a direct conversation and a shared group, reconnect with
// jittered backoff whenever their socket goes, `sync` after every connect,
// and retry an unanswered send with the same client_msg_id. Every `ack` goes
// into a ledger. Then a fault is injected, the load runs until every client
// is live again, and at the end:
//   - every acknowledged message is in the log exactly once, at the seq and
//     with the body its ack named (nothing acknowledged and then lost);
//   - no client_msg_id is stored twice (retries never duplicate);
//   - every conversation's log is gap-free from seq 1;
//   - every client holds every event of its conversations (live + sync);
//   - a fresh message reaches every connected client live.
// The figures (seconds until every client is live again, the window in which
// sends were refused) are printed and appended to CHATD_FAULT_REPORT.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "../integration/harness.hpp"
#include "../integration/ws_client.hpp"

namespace chatd::test {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

std::string env(const char* name, const std::string& fallback = "") {
  const char* v = std::getenv(name);
  return v ? v : fallback;
}

double seconds_since(Clock::time_point t0, Clock::time_point t) {
  return std::chrono::duration<double>(t - t0).count();
}

// Runs a scripts/cluster.sh command against the running cluster.
std::string cluster(const std::string& command, bool must_succeed = true) {
  std::string cmd = std::string(CHATD_SOURCE_DIR) + "/scripts/cluster.sh " + command + " --dir '" +
                    env("CHATD_CLUSTER_DIR") + "' 2>&1";
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return "popen failed";
  char buf[512];
  while (fgets(buf, sizeof buf, p)) out += buf;
  int rc = pclose(p);
  if (rc != 0 && must_succeed) ADD_FAILURE() << cmd << " failed (" << rc << "): " << out;
  return out;
}

std::uint16_t proxy_port() { return static_cast<std::uint16_t>(std::stoi(env("CHATD_CLUSTER_PORT", "0"))); }

// An HTTP call through HAProxy that survives the proxy or an instance going
// away: a fresh connection per call, retried on 503 and connection failures.
HttpResult call(const std::string& method, const std::string& target, const std::string& body,
                const std::string& token, Clock::duration patience = 90s) {
  auto deadline = Clock::now() + patience;
  HttpResult r;
  while (true) {
    try {
      HttpClient c(proxy_port());
      std::map<std::string, std::string> h{{"Content-Type", "application/json"}};
      if (!token.empty()) h["Authorization"] = "Bearer " + token;
      r = c.request(method, target, body, h);
      if (r.status != 503 && r.status != 502 && r.status != 0) return r;
    } catch (const std::exception&) {
    }
    if (Clock::now() > deadline) return r;
    std::this_thread::sleep_for(200ms);
  }
}

struct Acked {
  long long seq;
  std::string body;
};

// Every acknowledged send: (conversation, client_msg_id) -> what the ack said.
class Ledger {
 public:
  // False when the same client_msg_id was acknowledged before with another
  // seq or body (a retry must get the original back).
  bool add(long long conv, const std::string& cmid, long long seq, const std::string& body) {
    std::lock_guard lock(mu_);
    auto [it, inserted] = acked_.try_emplace({conv, cmid}, Acked{seq, body});
    return inserted || (it->second.seq == seq && it->second.body == body);
  }
  std::map<std::pair<long long, std::string>, Acked> snapshot() const {
    std::lock_guard lock(mu_);
    return acked_;
  }

 private:
  mutable std::mutex mu_;
  std::map<std::pair<long long, std::string>, Acked> acked_;
};

struct User {
  long long id = 0;
  std::string name, token;
};

// One simulated phone: a thread with a WebSocket through HAProxy.
class Phone {
 public:
  Phone(User user, std::vector<long long> convs, Ledger& ledger)
      : user_(std::move(user)), convs_(std::move(convs)), ledger_(ledger),
        rng_(static_cast<unsigned>(user_.id)) {}
  ~Phone() { stop(); }

  void start() { thread_ = std::thread([this] { run(); }); }
  void stop() {
    stopping_ = true;
    if (thread_.joinable()) thread_.join();
  }

  // The load pauses (no new sends; the socket stays, events keep arriving).
  void pause(bool p) { paused_ = p; }

  // The first acknowledged send after `t`, or nullopt.
  std::optional<Clock::time_point> first_ack_after(Clock::time_point t) const {
    std::lock_guard lock(mu_);
    for (auto a : ack_times_) if (a > t) return a;
    return std::nullopt;
  }
  // Times a send was refused (error frame unavailable, or the socket went
  // with the send unanswered).
  std::vector<Clock::time_point> refusals() const {
    std::lock_guard lock(mu_);
    return refused_;
  }
  // Refusals and the moments the socket was found gone.
  std::vector<Clock::time_point> troubles() const {
    std::lock_guard lock(mu_);
    auto all = refused_;
    all.insert(all.end(), dropped_.begin(), dropped_.end());
    return all;
  }
  long long acked() const { return acked_; }
  int reconnects() const { return reconnects_; }
  std::vector<std::string> problems() const {
    std::lock_guard lock(mu_);
    return problems_;
  }
  const User& user() const { return user_; }
  const std::vector<long long>& conversations() const { return convs_; }
  std::map<long long, std::set<long long>> received() const {
    std::lock_guard lock(mu_);
    return received_;
  }
  bool live() const { return live_; }

  // Seen live (or in sync) on this phone.
  bool has(long long conv, long long seq) const {
    std::lock_guard lock(mu_);
    auto it = received_.find(conv);
    return it != received_.end() && it->second.count(seq);
  }

 private:
  void problem(const std::string& what) {
    std::lock_guard lock(mu_);
    if (problems_.size() < 20) problems_.push_back(user_.name + ": " + what);
  }

  void note_event(const Json& f) {
    if (f.value("type", "") != "event") return;
    const auto& e = f["event"];
    std::lock_guard lock(mu_);
    received_[e.value("conversation_id", 0LL)].insert(e.value("seq", 0LL));
  }

  // Per conversation, the highest seq below which this phone holds everything.
  Json cursors() const {
    std::lock_guard lock(mu_);
    Json c = Json::object();
    for (auto conv : convs_) {
      long long n = 0;
      auto it = received_.find(conv);
      if (it != received_.end()) {
        for (auto s : it->second) {
          if (s != n + 1) break;
          n = s;
        }
      }
      c[std::to_string(conv)] = n;
    }
    return c;
  }

  void backoff(int attempt) {
    // Jittered exponential backoff, 100 ms .. 2 s, as the SDK does.
    auto cap = std::min(2000, 100 << std::min(attempt, 5));
    std::uniform_int_distribution<int> d(cap / 2, cap);
    std::this_thread::sleep_for(std::chrono::milliseconds(d(rng_)));
  }

  // Connects and syncs; false (after a backoff) when it could not.
  bool connect(int& attempt) {
    ws_.reset();
    live_ = false;
    try {
      auto ws = std::make_unique<WsClient>(proxy_port(), user_.token);
      if (!ws->connected()) throw std::runtime_error("handshake refused");
      std::string sync_id = "s" + std::to_string(++frame_id_);
      ws->send(Json{{"type", "sync"}, {"id", sync_id}, {"cursors", cursors()}});
      while (true) {
        auto f = ws->read(10s);
        if (!f) throw std::runtime_error("no synced");
        note_event(*f);
        if (f->value("type", "") == "synced") break;
        if (f->value("type", "") == "error") throw std::runtime_error("sync error " + f->dump());
      }
      ws_ = std::move(ws);
      attempt = 0;
      live_ = true;
      return true;
    } catch (const std::exception&) {
      backoff(attempt++);
      return false;
    }
  }

  void run() {
    int attempt = 0;
    long long n = 0;
    std::optional<std::pair<long long, std::string>> pending;  // unanswered send
    bool first = true;
    while (!stopping_) {
      if (!ws_ || ws_->closed()) {
        if (!first && ws_) {
          std::lock_guard lock(mu_);
          dropped_.push_back(Clock::now());
        }
        if (!first) ++reconnects_;
        if (!connect(attempt)) continue;
        first = false;
      }
      if (paused_ || !pending) {
        if (paused_) {
          if (auto f = ws_->read(50ms)) note_event(*f);
          continue;
        }
        ++n;
        pending = {convs_[n % convs_.size()], user_.name + "-" + std::to_string(n)};
      }
      // Take in what arrived meanwhile (events, or a close frame: a socket
      // the server closed is noticed here, not by a send into it).
      while (auto f = ws_->read(1ms)) note_event(*f);
      if (ws_->closed()) continue;
      auto [conv, cmid] = *pending;
      std::string body = "from " + user_.name + " #" + cmid;
      std::string id = std::to_string(++frame_id_);
      ws_->send(Json{{"type", "send"}, {"id", id}, {"conversation_id", conv}, {"client_msg_id", cmid},
                     {"body", body}});
      std::vector<Json> others;
      auto answer = ws_->read_until(
          [&](const Json& f) {
            auto it = f.find("id");
            return it != f.end() && it->is_string() && *it == id;
          },
          10s, &others);
      for (auto& f : others) note_event(f);
      if (!answer) {
        // No answer: the socket went (or the server stalled). The send may or
        // may not be stored; the retry with the same client_msg_id decides.
        {
          std::lock_guard lock(mu_);
          refused_.push_back(Clock::now());
        }
        ws_.reset();
        continue;
      }
      if (answer->value("type", "") == "ack") {
        const auto& m = (*answer)["message"];
        if (m.value("body", "") != body || m.value("client_msg_id", "") != cmid ||
            m.value("conversation_id", 0LL) != conv) {
          problem("ack does not match the send: " + answer->dump());
        }
        if (!ledger_.add(conv, cmid, m.value("seq", 0LL), m.value("body", ""))) {
          problem("a retry of " + cmid + " was acknowledged with another seq or body");
        }
        {
          std::lock_guard lock(mu_);
          ack_times_.push_back(Clock::now());
        }
        ++acked_;
        pending.reset();
        std::this_thread::sleep_for(40ms);  // ~25 sends per second per phone
        continue;
      }
      auto code = (*answer)["error"].value("code", "");
      if (code == "unavailable" || code == "rate_limited") {
        std::lock_guard lock(mu_);
        refused_.push_back(Clock::now());
      } else {
        problem("send refused: " + answer->dump());
        pending.reset();
      }
      std::this_thread::sleep_for(100ms);
    }
    ws_.reset();
  }

  User user_;
  std::vector<long long> convs_;
  Ledger& ledger_;
  std::mt19937 rng_;
  std::thread thread_;
  std::unique_ptr<WsClient> ws_;
  std::atomic<bool> stopping_{false}, paused_{false}, live_{false};
  std::atomic<long long> acked_{0};
  std::atomic<int> reconnects_{0};
  long long frame_id_ = 0;
  mutable std::mutex mu_;
  std::map<long long, std::set<long long>> received_;
  std::vector<Clock::time_point> ack_times_, refused_, dropped_;
  std::vector<std::string> problems_;
};

void report(const std::string& line) {
  std::printf("[ FIGURE   ] %s\n", line.c_str());
  std::fflush(stdout);
  auto path = env("CHATD_FAULT_REPORT");
  if (!path.empty()) std::ofstream(path, std::ios::app) << line << "\n";
}

class Topology : public ::testing::Test {
 protected:
  static constexpr int kPhones = 16;

  void SetUp() override {
    ASSERT_FALSE(env("CHATD_CLUSTER_DIR").empty()) << "run through scripts/fault-test.sh";
    ASSERT_NE(proxy_port(), 0);
    static int round = 0;
    ++round;
    std::vector<User> users;
    for (int i = 0; i < kPhones; ++i) {
      User u;
      u.name = "t" + std::to_string(round) + "u" + std::to_string(i) + "x" +
               std::to_string(std::chrono::system_clock::now().time_since_epoch().count() % 100000);
      Json creds{{"username", u.name}, {"password", "password-" + u.name}};
      auto r = call("POST", "/v1/users", creds.dump(), "");
      ASSERT_EQ(r.status, 201) << r.body;
      u.id = r.json()["user"].value("id", 0LL);
      r = call("POST", "/v1/sessions", creds.dump(), "");
      ASSERT_EQ(r.status, 201) << r.body;
      u.token = r.json().value("token", "");
      users.push_back(u);
    }
    Json ids = Json::array();
    for (int i = 1; i < kPhones; ++i) ids.push_back(users[i].id);
    auto g = call("POST", "/v1/conversations",
                  Json{{"kind", "group"}, {"title", "everyone"}, {"member_ids", ids}}.dump(), users[0].token);
    ASSERT_EQ(g.status, 201) << g.body;
    long long group = g.json()["conversation"].value("id", 0LL);
    for (int i = 0; i < kPhones; i += 2) {
      auto d = call("POST", "/v1/conversations", Json{{"kind", "direct"}, {"peer_id", users[i + 1].id}}.dump(),
                    users[i].token);
      ASSERT_TRUE(d.status == 201 || d.status == 200) << d.body;
      long long dm = d.json()["conversation"].value("id", 0LL);
      conversations_.insert(dm);
      phones_.push_back(std::make_unique<Phone>(users[i], std::vector<long long>{dm, group}, ledger_));
      phones_.push_back(std::make_unique<Phone>(users[i + 1], std::vector<long long>{dm, group}, ledger_));
    }
    conversations_.insert(group);
    for (auto& p : phones_) p->start();
    // Warm up: every phone has sent something.
    auto deadline = Clock::now() + 60s;
    for (auto& p : phones_) {
      while (p->acked() == 0 && Clock::now() < deadline) std::this_thread::sleep_for(50ms);
      ASSERT_GT(p->acked(), 0) << p->user().name << " never got an ack";
    }
    std::this_thread::sleep_for(2s);
  }

  void TearDown() override {
    for (auto& p : phones_) p->stop();
  }

  // Waits until the fault is over for every phone (a send acknowledged after
  // its last refusal, with no refusal anywhere for 3 s) and returns the
  // seconds from t0 until the last phone got that acknowledgement.
  double wait_all_live(Clock::time_point t0, Clock::time_point fault_done, Clock::duration patience) {
    auto deadline = Clock::now() + patience;
    while (true) {
      bool all = true;
      Clock::time_point quiet_since = fault_done, worst = t0;
      std::string waiting;
      for (auto& p : phones_) {
        auto last_bad = fault_done;
        for (auto t : p->troubles()) last_bad = std::max(last_bad, t);
        quiet_since = std::max(quiet_since, last_bad);
        auto ok = p->first_ack_after(last_bad);
        if (!ok) {
          all = false;
          waiting = p->user().name;
        } else {
          worst = std::max(worst, *ok);
        }
      }
      if (all && Clock::now() - quiet_since > 3s) return seconds_since(t0, worst);
      if (Clock::now() > deadline) {
        ADD_FAILURE() << "not every client was live again in time (" << waiting << " was not)";
        return -1;
      }
      std::this_thread::sleep_for(100ms);
    }
  }

  // The refusal window after t0: first and last refused send, in seconds.
  std::pair<double, double> refusal_window(Clock::time_point t0) const {
    double first = -1, last = -1;
    for (auto& p : phones_) {
      for (auto t : p->refusals()) {
        if (t < t0) continue;
        double s = seconds_since(t0, t);
        if (first < 0 || s < first) first = s;
        last = std::max(last, s);
      }
    }
    return {first, last};
  }

  // Stops the load and checks every promise the ledger holds the system to.
  void verify() {
    for (auto& p : phones_) p->pause(true);
    std::this_thread::sleep_for(1s);
    // Each conversation's log, read through HAProxy as a member.
    auto token_for = [&](long long conv) {
      for (auto& p : phones_)
        for (auto c : p->conversations())
          if (c == conv) return p->user().token;
      return std::string();
    };
    // The ledger first: whatever was acknowledged by now is committed, so
    // the logs read next must hold it (an ack arriving after the reads could
    // be for a commit they did not see).
    auto acked = ledger_.snapshot();
    std::map<long long, long long> last_seq;
    std::map<std::pair<long long, std::string>, std::vector<Acked>> stored;
    for (auto conv : conversations_) {
      long long after = 0;
      while (true) {
        auto r = call("GET", "/v1/conversations/" + std::to_string(conv) + "/events?limit=200&after=" +
                                 std::to_string(after),
                      "", token_for(conv));
        ASSERT_EQ(r.status, 200) << r.body;
        auto j = r.json();
        for (auto& e : j["events"]) {
          long long seq = e.value("seq", 0LL);
          ASSERT_EQ(seq, after + 1) << "conversation " << conv << " has a gap or disorder after seq " << after;
          after = seq;
          if (e.value("kind", "") == "message.created") {
            const auto& m = e["data"];
            stored[{conv, m.value("client_msg_id", "")}].push_back(Acked{seq, m.value("body", "")});
          }
        }
        if (!j.value("has_more", false)) break;
      }
      last_seq[conv] = after;
    }
    long long lost = 0, duplicated = 0, wrong = 0;
    for (auto& [key, a] : acked) {
      auto it = stored.find(key);
      if (it == stored.end()) {
        ++lost;
        ADD_FAILURE() << "acknowledged and lost: conversation " << key.first << " " << key.second << " seq " << a.seq;
        continue;
      }
      if (it->second.size() != 1) ++duplicated;
      if (it->second[0].seq != a.seq || it->second[0].body != a.body) ++wrong;
    }
    for (auto& [key, v] : stored) {
      if (v.size() > 1) {
        ++duplicated;
        ADD_FAILURE() << "stored twice: conversation " << key.first << " " << key.second;
      }
    }
    EXPECT_EQ(lost, 0);
    EXPECT_EQ(duplicated, 0);
    EXPECT_EQ(wrong, 0);
    acked_total_ = static_cast<long long>(acked.size());

    for (auto& p : phones_) {
      for (auto& problem : p->problems()) ADD_FAILURE() << problem;
    }
    // Every phone holds every event of its conversations (from live delivery
    // or its syncs), up to what was there when the load paused.
    auto deadline = Clock::now() + 20s;
    for (auto& p : phones_) {
      for (auto conv : p->conversations()) {
        for (long long s = 1; s <= last_seq[conv]; ++s) {
          while (!p->has(conv, s) && Clock::now() < deadline) std::this_thread::sleep_for(20ms);
          if (!p->has(conv, s)) {
            ADD_FAILURE() << p->user().name << " never got seq " << s << " of conversation " << conv;
            break;
          }
        }
      }
    }
    // A fresh message reaches every socket live: none went quiet.
    auto& sender = phones_[0];
    long long group = sender->conversations()[1];
    auto r = call("POST", "/v1/conversations/" + std::to_string(group) + "/messages",
                  Json{{"client_msg_id", "fresh-" + std::to_string(acked_total_)}, {"body", "anyone there?"}}.dump(),
                  sender->user().token);
    ASSERT_EQ(r.status, 201) << r.body;
    long long fresh = r.json()["message"].value("seq", 0LL);
    deadline = Clock::now() + 10s;
    for (auto& p : phones_) {
      while (!p->has(group, fresh) && Clock::now() < deadline) std::this_thread::sleep_for(20ms);
      EXPECT_TRUE(p->has(group, fresh)) << p->user().name << " did not get a fresh message live";
    }
  }

  long long reconnects() const {
    long long n = 0;
    for (auto& p : phones_) n += p->reconnects();
    return n;
  }

  Ledger ledger_;
  std::vector<std::unique_ptr<Phone>> phones_;
  std::set<long long> conversations_;
  long long acked_total_ = 0;
};

TEST_F(Topology, KillOneChatdInstanceClientsMoveToTheOther) {
  auto status = cluster("status");
  ASSERT_NE(status.find("chatd-1: running"), std::string::npos) << status;
  auto t0 = Clock::now();
  cluster("kill-chatd 1");
  double live = wait_all_live(t0, Clock::now(), 60s);
  auto [first, last] = refusal_window(t0);
  verify();
  std::string unanswered = first < 0 ? "no send unanswered"
                                     : "sends unanswered from " + std::to_string(first) + " to " +
                                           std::to_string(last) + " s";
  report("kill -9 chatd-1: every client live again after " + std::to_string(live) + " s; " +
         std::to_string(reconnects()) + " reconnects; " + unanswered + "; " + std::to_string(acked_total_) + " acknowledged, 0 lost, 0 duplicated");
  cluster("start-chatd 1");
}

TEST_F(Topology, StopOneChatdGracefullyHaproxyDrainsIt) {
  // SIGTERM: the instance says "not ready" on /readyz, answers what is in
  // flight, closes its sockets with 1001; HAProxy sends the reconnects (and
  // any request the stopping instance refuses) to the other one. The
  // instance stopped is the one holding more of the clients.
  auto sockets = cluster("sockets");
  int busiest = 1, most = -1;
  std::istringstream lines(sockets);
  std::string name, count;
  while (lines >> name >> count) {
    if (count != "down" && std::stoi(count) > most) {
      most = std::stoi(count);
      busiest = std::stoi(name.substr(name.find('-') + 1));
    }
  }
  ASSERT_GT(most, 0) << sockets;
  auto t0 = Clock::now();
  cluster("stop-chatd " + std::to_string(busiest));  // returns once the process has exited
  double stop_s = seconds_since(t0, Clock::now());
  double live = wait_all_live(t0, t0, 60s);
  long long refused = 0;
  for (auto& p : phones_)
    for (auto t : p->refusals()) refused += t >= t0;
  EXPECT_GE(reconnects(), most) << "the stopped instance's clients did not move";
  verify();
  report("SIGTERM chatd-" + std::to_string(busiest) + " (drain, " + std::to_string(most) +
         " sockets, exited after " + std::to_string(stop_s) + " s): every client live again after " +
         std::to_string(live) + " s; " + std::to_string(reconnects()) + " reconnects; " +
         std::to_string(refused) + " sends had to be retried; " + std::to_string(acked_total_) +
         " acknowledged, 0 lost, 0 duplicated");
  cluster("start-chatd " + std::to_string(busiest));
}

TEST_F(Topology, KillThePostgresPrimaryTheStandbyTakesOver) {
  auto before = cluster("leader");
  auto t0 = Clock::now();
  auto killed = cluster("kill-primary");
  double live = wait_all_live(t0, Clock::now(), 120s);
  auto after = cluster("leader", false);
  EXPECT_FALSE(after.empty()) << "no primary after the failover";
  EXPECT_NE(before, after) << "the standby was not promoted";
  auto [first, last] = refusal_window(t0);
  verify();
  report("kill -9 PostgreSQL primary (" + before.substr(0, before.find('\n')) + "): every client live again after " +
         std::to_string(live) + " s; sends refused from " + std::to_string(first) + " to " + std::to_string(last) +
         " s; " + std::to_string(acked_total_) + " acknowledged, 0 lost, 0 duplicated, logs gap-free");
  // The old primary comes back as the new standby (pg_rewind), so the next
  // test has a synchronous standby again.
  cluster("start-node " + killed.substr(0, killed.find('\n')));
  auto deadline = Clock::now() + 120s;
  while (cluster("status", false).find("sync_standby") == std::string::npos && Clock::now() < deadline) {
    std::this_thread::sleep_for(1s);
  }
}

TEST_F(Topology, RestartHaproxyClientsComeBack) {
  auto t0 = Clock::now();
  cluster("restart-haproxy");
  double live = wait_all_live(t0, Clock::now(), 60s);
  verify();
  report("restart HAProxy: every client live again after " + std::to_string(live) + " s; " +
         std::to_string(reconnects()) + " reconnects; " + std::to_string(acked_total_) +
         " acknowledged, 0 lost, 0 duplicated");
}

}  // namespace
}  // namespace chatd::test
