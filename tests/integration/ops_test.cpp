// Operating chatd: health, readiness against a database that goes away and
// comes back, metrics, migrations (checksums, concurrency), settings errors,
// JSON logs and graceful shutdown.
#include <signal.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <regex>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "chatd/domain/password_hasher.hpp"
#include "chat_fixture.hpp"
#include "harness.hpp"
#include "ws_client.hpp"

namespace chatd::test {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

class Ops : public ServerTest {};

TEST_F(Ops, HealthzAndReadyzAnswerOkWhenAllIsWell) {
  auto c = client();
  auto h = c.get("/healthz");
  EXPECT_EQ(h.status, 200);
  EXPECT_EQ(h.json(), Json({{"status", "ok"}}));
  auto r = c.get("/readyz");
  EXPECT_EQ(r.status, 200) << r.body;
}

TEST_F(Ops, ReadyzIs503WhenTheSchemaIsBehind) {
  db_->query("DELETE FROM schema_migrations WHERE version = 1 RETURNING version");
  auto r = client().get("/readyz");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.json()["error"].value("code", ""), "unavailable");
  EXPECT_NE(r.json()["error"].value("message", "").find("0001"), std::string::npos) << r.body;
}

TEST_F(Ops, MetricsCountRequestsByRouteAndStatus) {
  auto c = client();
  for (int i = 0; i < 3; ++i) c.get("/healthz");
  c.get("/v1/users/me");  // 401
  auto m = c.get("/metrics");
  ASSERT_EQ(m.status, 200);
  EXPECT_EQ(m.header("content-type").rfind("text/plain", 0), 0u);
  const auto& t = m.body;
  EXPECT_NE(t.find(R"(chatd_http_requests_total{route="/healthz",method="GET",status="200"} 3)"),
            std::string::npos) << t;
  EXPECT_NE(t.find(R"(chatd_http_requests_total{route="/v1/users/me",method="GET",status="401"} 1)"),
            std::string::npos) << t;
  EXPECT_NE(t.find(R"(chatd_http_request_duration_seconds_count{route="/healthz"} 3)"),
            std::string::npos) << t;
  EXPECT_NE(t.find(R"(chatd_http_request_duration_seconds_bucket{route="/healthz",le="+Inf"} 3)"),
            std::string::npos) << t;
  for (const char* g : {"chatd_db_pool_size 4", "chatd_db_pool_in_use", "chatd_db_pool_waiting",
                        "chatd_websocket_connections"}) {
    EXPECT_NE(t.find(g), std::string::npos) << g;
  }
}

namespace {
// The value of one series in an exposition ("name{labels} value"), or -1.
double series(const std::string& text, const std::string& name_and_labels) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(name_and_labels + " ", 0) == 0) return std::stod(line.substr(name_and_labels.size() + 1));
  }
  return -1;
}
}  // namespace

class OpsChat : public ChatTest {};

TEST_F(OpsChat, MetricsCoverTheProcessWebSocketsAndTheDatabaseAndPassPromtool) {
  auto a = user("metrica");
  auto b = user("metricb");
  long long conv = direct(a, b).json()["conversation"].value("id", 0LL);
  // One send over REST, then the same client_msg_id again: one commit that
  // stored something; the repeat stores nothing and is not a commit.
  ASSERT_EQ(send(a, conv, "m-1", "hello").status, 201);
  auto before = client().get("/metrics").body;
  auto repeat = send(a, conv, "m-1", "hello");
  ASSERT_TRUE(repeat.status == 200 || repeat.status == 201) << repeat.body;
  {
    WsClient ws(server_->port(), b.token);
    ASSERT_TRUE(ws.connected());
    ws.send(Json{{"type", "send"}, {"id", 1}, {"conversation_id", conv}, {"client_msg_id", "w-1"},
                 {"body", "over the socket"}});
    auto ack = ws.read_until([](const Json& f) { return f.value("type", "") == "ack"; });
    ASSERT_TRUE(ack.has_value());
  }  // the test client drops the socket without a close frame: 1006
  std::string t;
  for (int i = 0; i < 50; ++i) {  // the session ends on its IO thread
    t = client().get("/metrics").body;
    if (series(t, R"(chatd_websocket_closes_total{code="1006"})") >= 1) break;
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_EQ(series(t, R"(chatd_websocket_closes_total{code="1006"})"), 1) << t;
  EXPECT_EQ(series(t, R"(chatd_websocket_closes_total{code="1000"})"), 0) << t;
  EXPECT_EQ(series(t, R"(chatd_websocket_closes_total{code="1013"})"), 0) << t;
  EXPECT_EQ(series(t, "chatd_websocket_send_duration_seconds_count"), 1) << t;
  EXPECT_GT(series(t, "chatd_websocket_send_duration_seconds_sum"), 0) << t;
  EXPECT_EQ(series(t, "chatd_send_commits_total"), series(before, "chatd_send_commits_total") + 1)
      << "the repeat counted as a commit, or the WebSocket send did not";
  EXPECT_GT(series(t, "chatd_db_transaction_duration_seconds_count"), 3) << t;
  EXPECT_GT(series(t, "process_cpu_seconds_total"), 0) << t;
  EXPECT_GT(series(t, "process_resident_memory_bytes"), 1e6) << t;
  EXPECT_GT(series(t, "process_open_fds"), 5) << t;
  EXPECT_GT(series(t, "process_max_fds"), 0) << t;
  EXPECT_GT(series(t, "process_start_time_seconds"), 1.7e9) << t;
  EXPECT_EQ(series(t, "chatd_notify_dropped_total"), 0) << t;
  EXPECT_NE(t.find("# TYPE chatd_notify_dropped_total counter"), std::string::npos);
  EXPECT_TRUE(std::regex_search(t, std::regex(R"(chatd_build_info\{version="[0-9.]+"\} 1)"))) << t;
  // Sums at full precision (the stream's 6 significant digits rounded them).
  EXPECT_TRUE(std::regex_search(t, std::regex(R"(chatd_db_transaction_duration_seconds_sum [0-9]\.[0-9]{7,})")))
      << t;

  // Prometheus's own linter accepts the exposition (scripts/test.sh installs
  // promtool from Debian's prometheus package).
  ASSERT_EQ(std::system("command -v promtool >/dev/null"), 0)
      << "promtool is missing: scripts/install-deps.sh cluster installs it";
  auto path = std::filesystem::temp_directory_path() / ("chatd-metrics-" + std::to_string(getpid()) + ".txt");
  std::ofstream(path) << t;
  auto out = path.string() + ".out";
  int rc = std::system(("promtool check metrics < " + path.string() + " > " + out + " 2>&1").c_str());
  std::ifstream o(out);
  std::string lint((std::istreambuf_iterator<char>(o)), std::istreambuf_iterator<char>());
  EXPECT_EQ(rc, 0) << lint;
  EXPECT_EQ(lint, "") << lint;
  std::filesystem::remove(path);
  std::filesystem::remove(out);
}

TEST_F(Ops, GracefulShutdownFinishesTheRequestInFlight) {
  // A deliberately slow password hash keeps the registration in flight long
  // enough to signal the server in the middle of it.
  TestDatabase db;
  ChatdProcess slow({"--database-url", db.url(), "--listen", "127.0.0.1:0",
                     "--password-hash-ops", "12"});
  ASSERT_TRUE(slow.start()) << slow.output();
  auto port = slow.port();
  auto pending = std::async(std::launch::async, [port] {
    HttpClient c(port);
    return c.post("/v1/users", {{"username", "inflight"}, {"password", "password-x"}});
  });
  std::this_thread::sleep_for(300ms);
  auto begun = std::chrono::steady_clock::now();
  slow.signal(SIGTERM);
  auto r = pending.get();
  EXPECT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(slow.wait(), 0) << slow.output();
  EXPECT_LT(std::chrono::steady_clock::now() - begun, 10s);
  EXPECT_EQ(db.query("SELECT count(*) FROM users WHERE username = 'inflight'"), "1");
  EXPECT_NE(slow.output().find("chatd stopped"), std::string::npos);
}

TEST_F(Ops, ShutdownStopsAcceptingNewConnections) {
  auto port = server_->port();
  // Half a request keeps the server draining (it waits for requests in
  // flight), so the connection attempt below meets a live process.
  RawSocket inflight(port);
  ASSERT_TRUE(inflight.send("GET /healthz HTTP/1.1\r\nHost: x\r\n"));
  std::this_thread::sleep_for(200ms);
  server_->signal(SIGTERM);
  std::this_thread::sleep_for(500ms);
  ASSERT_EQ(server_->wait(0ms), -1) << "the server exited before the check could mean anything";
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::socket s(ioc);
  boost::system::error_code ec;
  s.connect({boost::asio::ip::make_address("127.0.0.1"), port}, ec);
  EXPECT_TRUE(ec) << "a draining server still accepted a connection";
  // The request in flight is still answered, and then the server exits.
  ASSERT_TRUE(inflight.send("\r\n"));
  EXPECT_NE(inflight.read_until("\r\n\r\n", 5s).find("200 OK"), std::string::npos);
  EXPECT_EQ(server_->wait(), 0) << server_->output();
}

TEST(Settings, WrongValueStopsTheStartNamingTheSetting) {
  ChatdProcess bad({"--threads", "lots"}, {{"DATABASE_URL", "postgresql://x/y"}});
  EXPECT_EQ(bad.run_to_exit(), 2);
  EXPECT_NE(bad.output().find("--threads (CHATD_THREADS)"), std::string::npos) << bad.output();

  ChatdProcess bad_env({}, {{"DATABASE_URL", "postgresql://x/y"}, {"CHATD_LOG_FORMAT", "xml"}});
  EXPECT_EQ(bad_env.run_to_exit(), 2);
  EXPECT_NE(bad_env.output().find("CHATD_LOG_FORMAT"), std::string::npos) << bad_env.output();
}

TEST(Settings, HelpListsTheSettings) {
  ChatdProcess help({"--help"});
  EXPECT_EQ(help.run_to_exit(), 0);
  for (const char* s : {"--database-url", "DATABASE_URL", "--listen", "CHATD_LISTEN", "--db-pool",
                        "CHATD_LOG_FORMAT", "migrate"}) {
    EXPECT_NE(help.output().find(s), std::string::npos) << s;
  }
}

TEST(Settings, JsonLogFormatWritesOneObjectPerLine) {
  TestDatabase db;
  ChatdProcess p({"--database-url", db.url(), "--listen", "127.0.0.1:0", "--log-format", "json"});
  ASSERT_TRUE(p.start()) << p.output();
  HttpClient(p.port()).request("GET", "/healthz", "", {{"X-Request-Id", "quote\"d"}});
  // A raw 0xff (not UTF-8) and a control byte in the target still give a
  // valid UTF-8 JSON line.
  RawSocket raw(p.port());
  ASSERT_TRUE(raw.send("GET /nope\xffx HTTP/1.1\r\nHost: x\r\nX-Request-Id: raw-1\r\n\r\n"));
  EXPECT_NE(raw.read_until("\r\n\r\n", 2s).find("404"), std::string::npos);
  p.signal(SIGTERM);
  EXPECT_EQ(p.wait(), 0);
  std::istringstream lines(p.output());
  std::string line;
  int n = 0;
  bool saw_access = false, saw_raw = false;
  while (std::getline(lines, line)) {
    if (line.empty()) continue;
    auto j = Json::parse(line, nullptr, false);  // rejects invalid UTF-8 too
    ASSERT_FALSE(j.is_discarded()) << line;
    EXPECT_TRUE(j.contains("ts") && j.contains("level") && j.contains("msg")) << line;
    if (j.value("msg", "") == "request" && j.value("route", "") == "/healthz") {
      // The access line's fields are keys of their own, typed.
      saw_access = true;
      EXPECT_EQ(j.value("method", ""), "GET") << line;
      EXPECT_EQ(j.value("status", 0), 200) << line;
      EXPECT_TRUE(j["duration_ms"].is_number()) << line;
      EXPECT_FALSE(j.value("id", "").empty()) << line;
    }
    if (j.value("id", "") == "raw-1") {
      saw_raw = true;
      EXPECT_EQ(j.value("status", 0), 404) << line;
      EXPECT_EQ(j.value("target", ""), "/nope\xEF\xBF\xBDx") << line;
    }
    ++n;
  }
  EXPECT_GT(n, 2);
  EXPECT_TRUE(saw_access) << p.output();
  EXPECT_TRUE(saw_raw) << p.output();
}

// --------------------------------------------------------------- migrations

fs::path copy_migrations() {
  auto dir = fs::temp_directory_path() /
             ("chatd-mig-" + std::to_string(getpid()) + "-" +
              std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()));
  fs::create_directories(dir);
  for (auto& e : fs::directory_iterator(fs::path(CHATD_SOURCE_DIR) / "migrations")) {
    fs::copy_file(e.path(), dir / e.path().filename());
  }
  return dir;
}

TEST(Migrations, MigrateAppliesEveryFileOnceAndRecordsChecksums) {
  TestDatabase db;
  ChatdProcess m({"migrate", "--database-url", db.url()});
  ASSERT_EQ(m.run_to_exit(), 0) << m.output();
  auto files = std::distance(fs::directory_iterator(fs::path(CHATD_SOURCE_DIR) / "migrations"),
                             fs::directory_iterator());
  EXPECT_EQ(db.query("SELECT count(*) FROM schema_migrations"), std::to_string(files));
  EXPECT_EQ(db.query("SELECT length(checksum) FROM schema_migrations WHERE version = 1"), "64");
  ChatdProcess again({"migrate", "--database-url", db.url()});
  ASSERT_EQ(again.run_to_exit(), 0) << again.output();
  EXPECT_NE(again.output().find("0 migration(s) applied"), std::string::npos) << again.output();
}

TEST(Migrations, AnEditedAppliedFileStopsTheStart) {
  TestDatabase db;
  auto dir = copy_migrations();
  ChatdProcess first({"migrate", "--database-url", db.url(), "--migrations-dir", dir.string()});
  ASSERT_EQ(first.run_to_exit(), 0) << first.output();
  {
    std::ofstream edit(dir / "0001_accounts.sql", std::ios::app);
    edit << "\n-- an innocent-looking edit\n";
  }
  ChatdProcess migrate({"migrate", "--database-url", db.url(), "--migrations-dir", dir.string()});
  EXPECT_NE(migrate.run_to_exit(), 0);
  EXPECT_NE(migrate.output().find("0001_accounts.sql was edited"), std::string::npos)
      << migrate.output();
  ChatdProcess serve({"--database-url", db.url(), "--listen", "127.0.0.1:0", "--migrations-dir",
                      dir.string()});
  EXPECT_FALSE(serve.start(10s)) << "chatd served with an edited migration";
  EXPECT_NE(serve.wait(), 0);
  fs::remove_all(dir);
}

TEST(Migrations, ANewFileIsAppliedAndABrokenOneIsRolledBack) {
  TestDatabase db;
  auto dir = copy_migrations();
  ChatdProcess first({"migrate", "--database-url", db.url(), "--migrations-dir", dir.string()});
  ASSERT_EQ(first.run_to_exit(), 0) << first.output();
  std::ofstream(dir / "9000_extra.sql") << "CREATE TABLE extra_t (id int);";
  ChatdProcess second({"migrate", "--database-url", db.url(), "--migrations-dir", dir.string()});
  ASSERT_EQ(second.run_to_exit(), 0) << second.output();
  EXPECT_EQ(db.query("SELECT to_regclass('extra_t') IS NOT NULL"), "t");

  std::ofstream(dir / "9001_broken.sql") << "CREATE TABLE half_t (id int); SELEC nonsense;";
  ChatdProcess third({"migrate", "--database-url", db.url(), "--migrations-dir", dir.string()});
  EXPECT_NE(third.run_to_exit(), 0);
  EXPECT_NE(third.output().find("9001_broken.sql failed"), std::string::npos) << third.output();
  EXPECT_EQ(db.query("SELECT to_regclass('half_t') IS NULL"), "t");
  EXPECT_EQ(db.query("SELECT max(version) FROM schema_migrations"), "9000");
  fs::remove_all(dir);
}

// A database made by the previous version, with data in it, upgrades in
// place: every row survives and the new version serves it.
TEST(Migrations, AnExistingDatabaseWithDataUpgradesInPlace) {
  TestDatabase db;
  auto dir = copy_migrations();
  for (auto& e : fs::directory_iterator(dir)) {
    if (e.path().filename().string() >= "0005") fs::remove(e.path());  // the schema before v1.1's
  }
  // The old schema, and accounts in it as the old version stored them (the
  // password hashed as chatd hashes it, so that the upgraded server logs in).
  {
    ChatdProcess old({"migrate", "--database-url", db.url(), "--migrations-dir", dir.string()});
    ASSERT_EQ(old.run_to_exit(), 0) << old.output();
  }
  domain::PasswordHasher hasher;
  for (const char* name : {"before_a", "before_b"}) {
    db.query("INSERT INTO users (username, display_name, password_hash) VALUES ('" + std::string(name) +
             "', '" + name + "', '" + hasher.hash(std::string("password-") + name) + "') RETURNING 1");
  }
  EXPECT_EQ(db.query("SELECT to_regclass('login_attempts') IS NULL"), "t");
  // ...and a conversation with a message, as the old version stored them.
  db.query(R"sql(
    WITH c AS (INSERT INTO conversations (kind, direct_key, last_seq, activity_pos, created_by)
               SELECT 'direct', min(id) || ':' || max(id), 2, nextval('activity_pos'), min(id) FROM users
               RETURNING id, created_by),
    m AS (INSERT INTO members (conversation_id, user_id, role) SELECT c.id, u.id, 'member' FROM c, users u),
    e1 AS (INSERT INTO events (conversation_id, seq, pos, kind, actor_id, data)
           SELECT id, 1, nextval('activity_pos'), 'conversation.created', created_by, '{}' FROM c),
    msg AS (INSERT INTO messages (conversation_id, seq, sender_id, client_msg_id, body)
            SELECT id, 2, created_by, 'old-1', 'hello from before' FROM c)
    INSERT INTO events (conversation_id, seq, pos, kind, actor_id, data)
    SELECT id, 2, nextval('activity_pos'), 'message.created', created_by, '{"body":"hello from before"}' FROM c
    RETURNING 1)sql");

  ChatdProcess upgrade({"migrate", "--database-url", db.url()});
  ASSERT_EQ(upgrade.run_to_exit(), 0) << upgrade.output();
  EXPECT_EQ(db.query("SELECT count(*) FROM members WHERE NOT muted AND muted_until IS NULL"), "2");
  // Requests and settings (0007): every existing member stays in the inbox,
  // every existing user keeps v1 behaviour.
  EXPECT_EQ(db.query("SELECT count(*) FROM members WHERE state = 'inbox' AND accepted_at IS NULL"), "2");
  EXPECT_EQ(db.query("SELECT count(*) FROM users WHERE dm_policy = 'everyone' AND read_receipts "
                     "AND show_presence"), "2");
  EXPECT_EQ(db.query("SELECT count(*) FROM push_jobs"), "0");

  ChatdProcess now({"--database-url", db.url(), "--listen", "127.0.0.1:0"});
  ASSERT_TRUE(now.start()) << now.output();
  HttpClient c(now.port());
  auto login = c.post("/v1/sessions", {{"username", "before_a"}, {"password", "password-before_a"}});
  ASSERT_EQ(login.status, 201) << login.body;
  auto token = login.json().value("token", "");
  auto list = c.get("/v1/conversations", token).json()["conversations"];
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].value("muted", true), false);
  EXPECT_EQ(list[0].value("state", ""), "inbox");
  EXPECT_EQ(list[0].value("declined", true), false);
  auto settings = c.get("/v1/users/me/settings", token);
  ASSERT_EQ(settings.status, 200) << settings.body;
  EXPECT_EQ(settings.json()["settings"].value("dm_policy", ""), "everyone");
  auto id = list[0].value("id", 0LL);
  auto history = c.get("/v1/conversations/" + std::to_string(id) + "/messages", token).json()["messages"];
  ASSERT_EQ(history.size(), 1u);
  EXPECT_EQ(history[0].value("body", ""), "hello from before");
  // The log goes on where it stopped.
  auto sent = c.post("/v1/conversations/" + std::to_string(id) + "/messages",
                     {{"client_msg_id", "new-1"}, {"body", "and after"}}, token);
  ASSERT_EQ(sent.status, 201) << sent.body;
  EXPECT_EQ(sent.json()["message"].value("seq", 0LL), 3);
  fs::remove_all(dir);
}

TEST(Migrations, TwoInstancesMigratingAtOnceApplyEachFileOnce) {
  TestDatabase db;
  std::vector<std::unique_ptr<ChatdProcess>> procs;
  for (int i = 0; i < 3; ++i) {
    procs.push_back(std::make_unique<ChatdProcess>(
        std::vector<std::string>{"migrate", "--database-url", db.url()}));
  }
  std::vector<std::future<int>> codes;
  for (auto& p : procs) {
    codes.push_back(std::async(std::launch::async, [&p] { return p->run_to_exit(); }));
  }
  for (std::size_t i = 0; i < codes.size(); ++i) {
    EXPECT_EQ(codes[i].get(), 0) << procs[i]->output();
  }
  EXPECT_EQ(db.query("SELECT count(*) FROM schema_migrations WHERE version = 1"), "1");
  int applied = 0;
  for (auto& p : procs) applied += p->output().find("applied migration 0001") != std::string::npos;
  EXPECT_EQ(applied, 1);
}

// ------------------------------------------ a database that stops and starts

// A PostgreSQL cluster of this test's own, so that stopping it harms no other test.
class OwnCluster {
 public:
  OwnCluster() {
    dir_ = fs::temp_directory_path() / ("chatd-own-pg-" + std::to_string(getpid()));
    fs::remove_all(dir_);
    boost::asio::io_context ioc;
    boost::asio::ip::tcp::acceptor a(ioc, {boost::asio::ip::make_address("127.0.0.1"), 0});
    port_ = a.local_endpoint().port();
    a.close();
    init_ok_ = run("init") == 0 && run("start") == 0;
  }
  ~OwnCluster() {
    run("stop");
    fs::remove_all(dir_);
  }
  bool ok() const { return init_ok_; }
  int run(const std::string& action) {
    std::string cmd = std::string(CHATD_SOURCE_DIR) + "/scripts/pg.sh " + action + " " +
                      dir_.string() + " " + std::to_string(port_) + " > " + dir_.string() +
                      ".log 2>&1";
    return std::system(cmd.c_str());
  }
  std::string url() const {
    return "host=127.0.0.1 port=" + std::to_string(port_) + " user=postgres dbname=postgres";
  }

 private:
  fs::path dir_;
  int port_ = 0;
  bool init_ok_ = false;
};

TEST(Readiness, ReadyzFollowsTheDatabaseDownAndBackUp) {
  OwnCluster pg;
  ASSERT_TRUE(pg.ok()) << "could not start a PostgreSQL cluster for this test";
  ChatdProcess p({"--database-url", pg.url(), "--listen", "127.0.0.1:0", "--db-pool", "2"});
  ASSERT_TRUE(p.start()) << p.output();
  HttpClient c(p.port());
  ASSERT_EQ(c.get("/readyz").status, 200);
  ASSERT_EQ(c.post("/v1/users", {{"username", "before"}, {"password", "password-b"}}).status, 201);

  ASSERT_EQ(pg.run("stop"), 0);
  auto down = c.get("/readyz");
  EXPECT_EQ(down.status, 503) << down.body;
  EXPECT_EQ(down.json()["error"].value("code", ""), "unavailable");
  EXPECT_NE(down.json()["error"].value("message", "").find("database"), std::string::npos)
      << down.body;
  EXPECT_FALSE(down.header("retry-after").empty());
  // Requests that need the database get 503 `unavailable`, not a crash.
  auto during = c.post("/v1/sessions", {{"username", "before"}, {"password", "password-b"}});
  EXPECT_EQ(during.status, 503) << during.body;
  EXPECT_EQ(during.json()["error"]["code"], "unavailable");
  EXPECT_FALSE(during.header("retry-after").empty());
  EXPECT_EQ(c.get("/healthz").status, 200);

  ASSERT_EQ(pg.run("start"), 0);
  int status = 0;
  for (int i = 0; i < 100 && status != 200; ++i) {
    std::this_thread::sleep_for(100ms);
    status = c.get("/readyz").status;
  }
  EXPECT_EQ(status, 200);
  // Connections were re-established: the pool serves again.
  for (int i = 0; i < 4; ++i) {
    auto again = c.post("/v1/sessions", {{"username", "before"}, {"password", "password-b"}});
    EXPECT_EQ(again.status, 201) << again.body;
  }
  p.signal(SIGTERM);
  EXPECT_EQ(p.wait(), 0) << p.output();
}

}  // namespace
}  // namespace chatd::test
