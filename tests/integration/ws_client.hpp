// A WebSocket client for tests: a real Beast client on a real socket, with
// deadlines on every read.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "harness.hpp"

namespace chatd::test {

// Frame predicates the suites share (for read_until and friends).
inline bool is_type(const Json& f, const char* type) { return f.value("type", "") == type; }
// A frame of `type` about `user` (presence, typing, read).
inline std::function<bool(const Json&)> about(const char* type, long long user) {
  return [type, user](const Json& f) { return is_type(f, type) && f.value("user_id", 0LL) == user; };
}
inline std::function<bool(const Json&)> presence(long long user, bool online) {
  return [user, online](const Json& f) { return about("presence", user)(f) && f.value("online", !online) == online; };
}

class WsClient {
 public:
  // Connects and upgrades; with a token, authenticates by header and waits
  // for the session to have started (a ping's pong; frames before it are
  // kept for read); with an origin, sends it as a browser would. receive_buffer > 0 shrinks the
  // socket's receive buffer before connecting.
  WsClient(std::uint16_t port, const std::string& token = "", int receive_buffer = 0,
           const std::string& origin = "");
  ~WsClient();

  bool connected() const { return handshake_ok_; }

  void send(const Json& frame);
  void send_text(const std::string& text);
  void send_binary(const std::string& bytes);
  // The next frame, or nullopt after the timeout or when the socket closed.
  std::optional<Json> read(std::chrono::milliseconds timeout = std::chrono::seconds(5));
  // Frames until pred matches (returned), or nullopt; other frames go to `skipped`.
  std::optional<Json> read_until(const std::function<bool(const Json&)>& pred,
                                 std::chrono::milliseconds timeout = std::chrono::seconds(5),
                                 std::vector<Json>* skipped = nullptr);
  // Reads (and drops) until the socket closes; the close code, or -1 on timeout.
  int wait_closed(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  bool closed() const { return closed_; }
  int close_code() const { return close_code_; }

 private:
  std::optional<Json> read_wire(std::chrono::milliseconds timeout);
  struct Impl;
  std::unique_ptr<Impl> impl_;
  bool handshake_ok_ = false;
  bool closed_ = false;
  int close_code_ = 0;
};

}  // namespace chatd::test
