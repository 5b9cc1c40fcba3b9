#include <algorithm>
#include <filesystem>
#include "harness.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <utility>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <regex>

#include <pqxx/pqxx>

namespace chatd::test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

std::string cluster_conninfo() {
  const char* v = std::getenv("CHATD_TEST_PG");
  if (!v || !*v) {
    ADD_FAILURE() << "CHATD_TEST_PG is not set: run the tests through scripts/test.sh, which "
                     "starts a throwaway PostgreSQL";
    throw std::runtime_error("CHATD_TEST_PG not set");
  }
  return v;
}

// ---------------------------------------------------------------- database

TestDatabase::TestDatabase() {
  static std::atomic<int> counter{0};
  name_ = "chatd_t_" + std::to_string(getpid()) + "_" + std::to_string(++counter) + "_" +
          std::to_string(std::chrono::steady_clock::now().time_since_epoch().count() % 100000);
  auto base = cluster_conninfo();
  pqxx::connection admin(base + " dbname=postgres");
  pqxx::nontransaction(admin).exec("CREATE DATABASE " + name_);
  url_ = base + " dbname=" + name_;
}

TestDatabase::~TestDatabase() {
  try {
    pqxx::connection admin(cluster_conninfo() + " dbname=postgres");
    pqxx::nontransaction(admin).exec("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
  } catch (...) {
  }
}

std::string TestDatabase::query(const std::string& sql) const {
  pqxx::connection c(url_);
  pqxx::work tx(c);
  auto r = tx.exec(sql);
  tx.commit();
  if (r.empty() || r[0].empty() || r[0][0].is_null()) return "";
  return r[0][0].as<std::string>();
}

// ----------------------------------------------------------------- process

ChatdProcess::ChatdProcess(std::vector<std::string> args, std::map<std::string, std::string> env)
    : args_(std::move(args)), env_(std::move(env)) {
  // Most tests send in bulk and are not about flood limits: unless a test
  // sets --rate-sends itself, the send limit is off (rate_limit_test.cpp
  // covers the limit, its default included).
  if (std::find(args_.begin(), args_.end(), "--rate-sends") == args_.end()) {
    args_.push_back("--rate-sends");
    args_.push_back("0");
  }
  // Attachment files go to a directory of this process's own, removed with
  // it, unless the test names one.
  auto given = std::find(args_.begin(), args_.end(), "--data-dir");
  if (given != args_.end() && given + 1 != args_.end()) {
    data_dir_ = *(given + 1);
  } else if (!env_.count("CHATD_DATA_DIR")) {
    char tmpl[] = "/tmp/chatd-test-data-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp failed");
    data_dir_ = tmpl;
    owns_data_dir_ = true;
    args_.push_back("--data-dir");
    args_.push_back(data_dir_);
  }
}

ChatdProcess::~ChatdProcess() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }
  if (reader_.joinable()) reader_.join();
  if (owns_data_dir_) {
    std::error_code ec;
    std::filesystem::remove_all(data_dir_, ec);
  }
}

void ChatdProcess::spawn() {
  int pipefd[2];
  if (::pipe(pipefd) != 0) throw std::runtime_error("pipe failed");
  pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    ::dup2(pipefd[1], 1);
    ::dup2(pipefd[1], 2);
    ::close(pipefd[0]);
    ::close(pipefd[1]);
    for (auto& [k, v] : env_) ::setenv(k.c_str(), v.c_str(), 1);
    std::vector<char*> argv;
    // CHATD_TEST_BINARY runs the tests against another build (e.g. an older
    // commit, to see a test fail there).
    const char* other = std::getenv("CHATD_TEST_BINARY");
    std::string bin = other && *other ? other : CHATD_BINARY;
    argv.push_back(bin.data());
    for (auto& a : args_) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(bin.c_str(), argv.data());
    std::perror("execv chatd");
    ::_exit(127);
  }
  ::close(pipefd[1]);
  pid_ = pid;
  out_fd_ = pipefd[0];
  reader_ = std::thread([this] { reader(); });
}

void ChatdProcess::reader() {
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(out_fd_, buf, sizeof buf);
    if (n <= 0) break;
    std::lock_guard lock(mu_);
    output_.append(buf, static_cast<std::size_t>(n));
  }
  ::close(out_fd_);
}

std::string ChatdProcess::output() const {
  std::lock_guard lock(mu_);
  return output_;
}

bool ChatdProcess::start(std::chrono::milliseconds timeout) {
  spawn();
  static const std::regex listening(R"(chatd listening on [^ ]+:(\d+))");
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    std::smatch m;
    std::string out = output();
    if (std::regex_search(out, m, listening)) {
      port_ = static_cast<std::uint16_t>(std::stoi(m[1]));
      return true;
    }
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      pid_ = -1;
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

int ChatdProcess::run_to_exit(std::chrono::milliseconds timeout) {
  spawn();
  return wait(timeout);
}

void ChatdProcess::signal(int signo) {
  if (pid_ > 0) ::kill(pid_, signo);
}

int ChatdProcess::wait(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return exit_code_;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      pid_ = -1;
      if (reader_.joinable()) reader_.join();
      return exit_code_;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return -1;
}

// -------------------------------------------------------------------- http

Json HttpResult::json() const {
  auto j = Json::parse(body, nullptr, false);
  if (j.is_discarded()) ADD_FAILURE() << "response is not JSON: " << body;
  return j;
}

std::string HttpResult::header(const std::string& lower_name) const {
  auto it = headers.find(lower_name);
  return it == headers.end() ? "" : it->second;
}

struct HttpClient::Impl {
  asio::io_context ioc;
  std::unique_ptr<beast::tcp_stream> stream;
  beast::flat_buffer buffer;
  std::uint16_t port;

  void connect() {
    stream = std::make_unique<beast::tcp_stream>(ioc);
    buffer.clear();
    stream->connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  }
};

HttpClient::HttpClient(std::uint16_t port) : impl_(new Impl) {
  impl_->port = port;
}

HttpClient::~HttpClient() {
  beast::error_code ec;
  if (impl_->stream) impl_->stream->socket().shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  delete impl_;
}

HttpResult HttpClient::request(const std::string& method, const std::string& target,
                               const std::string& body,
                               const std::map<std::string, std::string>& headers) {
  if (!impl_->stream) impl_->connect();
  bhttp::request<bhttp::string_body> req{bhttp::string_to_verb(method), target, 11};
  if (req.method() == bhttp::verb::unknown) req.method_string(method);
  req.set(bhttp::field::host, "127.0.0.1");
  for (auto& [k, v] : headers) req.set(k, v);
  if (!body.empty()) {
    if (headers.find("Content-Type") == headers.end()) req.set(bhttp::field::content_type, "application/json");
    req.body() = body;
  }
  req.prepare_payload();
  impl_->stream->expires_after(std::chrono::seconds(30));
  bhttp::write(impl_->stream->socket(), req);
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(64 << 20);
  if (method == "HEAD") parser.skip(true);
  bhttp::read(impl_->stream->socket(), impl_->buffer, parser);
  auto res = parser.release();
  HttpResult out;
  out.status = static_cast<int>(res.result_int());
  for (const auto& f : res) {
    std::string name(f.name_string());
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out.headers[name] = std::string(f.value());
  }
  out.body = res.body();
  if (!res.keep_alive()) {
    impl_->stream.reset();
  }
  return out;
}

namespace {
std::map<std::string, std::string> auth(const std::string& token) {
  if (token.empty()) return {};
  return {{"Authorization", "Bearer " + token}};
}
}  // namespace

HttpResult HttpClient::get(const std::string& target, const std::string& token) {
  return request("GET", target, "", auth(token));
}
HttpResult HttpClient::post(const std::string& target, const Json& body, const std::string& token) {
  return request("POST", target, body.dump(), auth(token));
}
HttpResult HttpClient::del(const std::string& target, const std::string& token) {
  return request("DELETE", target, "", auth(token));
}

// ------------------------------------------------------------------ socket

RawSocket::RawSocket(std::uint16_t port, int receive_buffer) {
  fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  if (receive_buffer > 0) {
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  ::inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    throw std::runtime_error("connect failed");
  }
}

RawSocket::~RawSocket() {
  if (fd_ >= 0) ::close(fd_);
}

bool RawSocket::send(const std::string& bytes) {
  std::size_t sent = 0;
  while (sent < bytes.size()) {
    ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return false;
    sent += static_cast<std::size_t>(n);
  }
  return true;
}

std::string RawSocket::read_until(const std::string& until, std::chrono::milliseconds timeout) {
  std::string out;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  char buf[4096];
  while (out.find(until) == std::string::npos) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

bool RawSocket::closed_within(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  char buf[4096];
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) return true;  // EOF or reset
  }
}

// ------------------------------------------------------------- fixture

void ServerTest::SetUp() {
  db_ = std::make_unique<TestDatabase>();
  std::vector<std::string> args = {"--database-url", db_->url(), "--listen", "127.0.0.1:0",
                                   "--threads", "2", "--db-pool", "4"};
  for (auto& a : extra_args()) args.push_back(a);
  server_ = std::make_unique<ChatdProcess>(args);
  ASSERT_TRUE(server_->start()) << "chatd did not start:\n" << server_->output();
}

void ServerTest::TearDown() {
  if (server_ && server_->running()) {
    server_->signal(SIGTERM);
    int code = server_->wait();
    EXPECT_EQ(code, 0) << "chatd did not stop cleanly:\n" << server_->output();
  }
  server_.reset();
  db_.reset();
}

Json ServerTest::register_user(const std::string& name) {
  auto c = client();
  auto r = c.post("/v1/users", {{"username", name}, {"password", "password-" + name}});
  EXPECT_EQ(r.status, 201) << r.body;
  return r.json()["user"];
}

std::string ServerTest::login_new_user(const std::string& name, Json* user) {
  auto u = register_user(name);
  if (user) *user = u;
  auto c = client();
  auto r = c.post("/v1/sessions", {{"username", name}, {"password", "password-" + name}});
  EXPECT_EQ(r.status, 201) << r.body;
  return r.json().value("token", "");
}

}  // namespace chatd::test
