// Test harness: a throwaway database per test, a real chatd process on an
// ephemeral port, and clients speaking HTTP over real sockets.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace chatd::test {

using Json = nlohmann::json;

// libpq keyword/value settings of the test cluster (host, port, user), from
// CHATD_TEST_PG. A missing value fails the test: the database is never skipped.
std::string cluster_conninfo();

// A database created for one test and dropped after it.
class TestDatabase {
 public:
  TestDatabase();
  ~TestDatabase();
  const std::string& url() const { return url_; }
  const std::string& name() const { return name_; }
  // Runs SQL in the database; returns the first column of the first row or "".
  std::string query(const std::string& sql) const;

 private:
  std::string name_;
  std::string url_;
};

// A chatd child process. Its output is collected; start() waits for the
// "listening" line and learns the port.
class ChatdProcess {
 public:
  ChatdProcess(std::vector<std::string> args, std::map<std::string, std::string> env = {});
  ~ChatdProcess();

  // Starts and waits until it listens. False (with output kept) on failure.
  bool start(std::chrono::milliseconds timeout = std::chrono::seconds(20));
  // Runs to completion (for `chatd migrate` and failing starts); returns the exit code.
  int run_to_exit(std::chrono::milliseconds timeout = std::chrono::seconds(30));
  void signal(int signo);
  // Waits for exit; returns the exit code, or -1 on timeout, or 128+signal.
  int wait(std::chrono::milliseconds timeout = std::chrono::seconds(20));
  std::uint16_t port() const { return port_; }
  // Where its attachment files are (--data-dir).
  const std::string& data_dir() const { return data_dir_; }
  // `next` (a restart on the same directory) removes it when it is done.
  void hand_data_dir_to(ChatdProcess& next) {
    next.owns_data_dir_ = owns_data_dir_ && next.data_dir_ == data_dir_;
    if (next.owns_data_dir_) owns_data_dir_ = false;
  }
  std::string output() const;
  bool running() const { return pid_ > 0; }

 private:
  void spawn();
  void reader();

  std::vector<std::string> args_;
  std::map<std::string, std::string> env_;
  pid_t pid_ = -1;
  int out_fd_ = -1;
  std::uint16_t port_ = 0;
  int exit_code_ = -1;
  std::thread reader_;
  mutable std::mutex mu_;
  std::string output_;
  std::string data_dir_;
  bool owns_data_dir_ = false;
};

struct HttpResult {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  Json json() const;
  std::string header(const std::string& lower_name) const;
};

// One keep-alive HTTP/1.1 connection.
class HttpClient {
 public:
  explicit HttpClient(std::uint16_t port);
  ~HttpClient();
  HttpResult request(const std::string& method, const std::string& target,
                     const std::string& body = "",
                     const std::map<std::string, std::string>& headers = {});
  HttpResult get(const std::string& target, const std::string& token = "");
  HttpResult post(const std::string& target, const Json& body, const std::string& token = "");
  HttpResult del(const std::string& target, const std::string& token = "");

 private:
  struct Impl;
  Impl* impl_;
};

// A plain TCP socket for byte-level tests (pipelining, slow clients).
class RawSocket {
 public:
  // receive_buffer > 0: SO_RCVBUF set before connecting (a small window,
  // for a client that reads slowly).
  explicit RawSocket(std::uint16_t port, int receive_buffer = 0);
  ~RawSocket();
  bool send(const std::string& bytes);
  // Reads until `until` appears (or EOF/timeout); returns what was read.
  std::string read_until(const std::string& until, std::chrono::milliseconds timeout);
  // True when the server closed the connection within the timeout.
  bool closed_within(std::chrono::milliseconds timeout);

 private:
  int fd_ = -1;
};

// A chatd serving a fresh database, for tests of the API.
class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;
  // Extra arguments for chatd, before SetUp starts it.
  virtual std::vector<std::string> extra_args() const { return {}; }

  HttpClient client() { return HttpClient(server_->port()); }
  // Registers a user (password "password-<name>") and returns it.
  Json register_user(const std::string& name);
  // Registers and logs in; returns the token.
  std::string login_new_user(const std::string& name, Json* user = nullptr);

  std::unique_ptr<TestDatabase> db_;
  std::unique_ptr<ChatdProcess> server_;
};

}  // namespace chatd::test
