// The WebSocket protocol byte for byte, against a real server on a real
// socket: chatd reads and writes frames itself after the upgrade
// (src/net/ws_wire.hpp), so these tests speak RFC 6455 by hand: fragments
// with a ping between them, the close handshake, protocol errors and their
// close codes, keep-alive pings and the idle timeout.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <thread>

#include "chat_fixture.hpp"

namespace chatd::test {
namespace {

using namespace std::chrono_literals;

struct WireFrame {
  std::uint8_t opcode = 0;
  bool fin = false;
  std::string payload;
};

// A client that writes masked frames and reads the server's frames.
class RawWs {
 public:
  RawWs(std::uint16_t port, const std::string& token) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return;
    (void)write("GET /v1/ws HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
          "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
          "Authorization: Bearer " + token + "\r\n\r\n");
    // The 101 and its headers, then frames.
    while (buffer_.find("\r\n\r\n") == std::string::npos) {
      if (!fill(5s)) return;
    }
    auto end = buffer_.find("\r\n\r\n");
    upgraded_ = buffer_.rfind("HTTP/1.1 101", 0) == 0;
    buffer_.erase(0, end + 4);
  }
  ~RawWs() {
    if (fd_ >= 0) ::close(fd_);
  }
  bool upgraded() const { return upgraded_; }

  // False when the connection failed (reset) before every byte was sent.
  bool write(const std::string& bytes) {
    std::size_t at = 0;
    while (at < bytes.size()) {
      auto n = ::send(fd_, bytes.data() + at, bytes.size() - at, MSG_NOSIGNAL);
      if (n <= 0) return false;
      at += static_cast<std::size_t>(n);
    }
    return true;
  }
  // A client frame: masked unless told otherwise.
  void frame(std::uint8_t first, const std::string& payload, bool masked = true) {
    std::string out(1, static_cast<char>(first));
    std::uint8_t m = masked ? 0x80 : 0;
    if (payload.size() < 126) {
      out.push_back(static_cast<char>(m | payload.size()));
    } else {
      out.push_back(static_cast<char>(m | 126));
      out.push_back(static_cast<char>(payload.size() >> 8));
      out.push_back(static_cast<char>(payload.size() & 0xFF));
    }
    const char key[4] = {'\x12', '\x34', '\x56', '\x78'};
    if (masked) out.append(key, 4);
    for (std::size_t i = 0; i < payload.size(); ++i) {
      out.push_back(static_cast<char>(payload[i] ^ (masked ? key[i & 3] : 0)));
    }
    (void)write(out);
  }
  // The server's next frame; nullopt on timeout or end of stream.
  std::optional<WireFrame> next(std::chrono::milliseconds timeout = 5s) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      if (auto f = parse()) return f;
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left <= 0ms || !fill(left)) return std::nullopt;
    }
  }
  // The next frame with this opcode, skipping others.
  std::optional<WireFrame> next_of(std::uint8_t opcode, std::chrono::milliseconds timeout = 5s) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      auto f = next(std::max(left, 1ms));
      if (!f || f->opcode == opcode) return f;
    }
  }
  // True once the server has closed the TCP connection (EOF) within the timeout.
  bool ended_within(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left <= 0ms) return false;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
      char tmp[4096];
      auto n = ::recv(fd_, tmp, sizeof tmp, 0);
      if (n <= 0) return true;
    }
  }

 private:
  bool fill(std::chrono::milliseconds timeout) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return false;
    char tmp[4096];
    auto n = ::recv(fd_, tmp, sizeof tmp, 0);
    if (n <= 0) return false;
    buffer_.append(tmp, static_cast<std::size_t>(n));
    return true;
  }
  std::optional<WireFrame> parse() {
    if (buffer_.size() < 2) return std::nullopt;
    auto b0 = static_cast<std::uint8_t>(buffer_[0]);
    auto b1 = static_cast<std::uint8_t>(buffer_[1]);
    EXPECT_EQ(b1 & 0x80, 0) << "server frames are not masked";
    std::size_t len = b1 & 0x7F, at = 2;
    if (len == 126) {
      if (buffer_.size() < 4) return std::nullopt;
      len = (static_cast<std::uint8_t>(buffer_[2]) << 8) | static_cast<std::uint8_t>(buffer_[3]);
      at = 4;
    } else if (len == 127) {
      if (buffer_.size() < 10) return std::nullopt;
      len = 0;
      for (int i = 0; i < 8; ++i) len = (len << 8) | static_cast<std::uint8_t>(buffer_[2 + i]);
      at = 10;
    }
    if (buffer_.size() < at + len) return std::nullopt;
    WireFrame f{static_cast<std::uint8_t>(b0 & 0x0F), (b0 & 0x80) != 0, buffer_.substr(at, len)};
    buffer_.erase(0, at + len);
    return f;
  }

  int fd_ = -1;
  bool upgraded_ = false;
  std::string buffer_;
};

constexpr std::uint8_t kFin = 0x80;
constexpr std::uint8_t kText = 0x1, kClose = 0x8, kPing = 0x9, kPong = 0xA;

int close_code(const WireFrame& f) {
  if (f.payload.size() < 2) return -1;
  return (static_cast<std::uint8_t>(f.payload[0]) << 8) | static_cast<std::uint8_t>(f.payload[1]);
}

class WsProtocol : public ChatTest {
 protected:
  std::vector<std::string> extra_args() const override { return {"--ws-idle-timeout", "2s"}; }
};

TEST_F(WsProtocol, FragmentsWithAPingBetweenThemAreOneFrameAndThePingIsAnswered) {
  auto a = user("wira");
  RawWs ws(server_->port(), a.token);
  ASSERT_TRUE(ws.upgraded());
  ws.frame(kText, R"({"type":"pi)");
  ws.frame(kFin | kPing, "still there?");
  ws.frame(0x0, R"(ng","id":)");
  ws.frame(kFin | 0x0, "7}");
  auto pong = ws.next_of(kPong);
  ASSERT_TRUE(pong);
  EXPECT_EQ(pong->payload, "still there?");
  auto answer = ws.next_of(kText);
  ASSERT_TRUE(answer);
  EXPECT_TRUE(answer->fin);
  auto j = Json::parse(answer->payload);
  EXPECT_EQ(j["type"], "pong");
  EXPECT_EQ(j["id"], 7);

  // The close handshake: the server answers with the same code and ends the TCP connection.
  ws.frame(kFin | kClose, std::string("\x03\xe8", 2) + "done");
  auto close = ws.next_of(kClose);
  ASSERT_TRUE(close);
  EXPECT_EQ(close_code(*close), 1000);
  EXPECT_TRUE(ws.ended_within(2s));
}

TEST_F(WsProtocol, ProtocolErrorsCloseWithTheirCodeAndOthersGoOn) {
  auto a = user("wirb");
  RawWs unmasked(server_->port(), a.token);
  ASSERT_TRUE(unmasked.upgraded());
  unmasked.frame(kFin | kText, R"({"type":"ping","id":1})", /*masked=*/false);
  auto c1 = unmasked.next_of(kClose);
  ASSERT_TRUE(c1);
  EXPECT_EQ(close_code(*c1), 1002);
  EXPECT_TRUE(unmasked.ended_within(2s));

  RawWs not_utf8(server_->port(), a.token);
  ASSERT_TRUE(not_utf8.upgraded());
  not_utf8.frame(kFin | kText, "{\"type\":\"ping\",\"id\":\"\xc3\"}");
  auto c2 = not_utf8.next_of(kClose);
  ASSERT_TRUE(c2);
  EXPECT_EQ(close_code(*c2), 1007);
  EXPECT_TRUE(not_utf8.ended_within(2s));

  RawWs big_ping(server_->port(), a.token);
  ASSERT_TRUE(big_ping.upgraded());
  big_ping.frame(kFin | kPing, std::string(200, 'p'));
  auto c3 = big_ping.next_of(kClose);
  ASSERT_TRUE(c3);
  EXPECT_EQ(close_code(*c3), 1002);

  RawWs fine(server_->port(), a.token);
  ASSERT_TRUE(fine.upgraded());
  fine.frame(kFin | kText, R"({"type":"ping","id":2})");
  auto answer = fine.next_of(kText);
  ASSERT_TRUE(answer);
  EXPECT_EQ(Json::parse(answer->payload)["id"], 2);
}

TEST_F(WsProtocol, PingsFasterThanTheyAreReadGetOnePongForTheLatest) {
  auto a = user("wird");
  RawWs ws(server_->port(), a.token);
  ASSERT_TRUE(ws.upgraded());
  // 200 pings in one write: the server reads them together and keeps one
  // pong waiting, for the latest, instead of queueing 200.
  std::string burst;
  for (int i = 0; i < 200; ++i) {
    std::string p = std::to_string(i);
    burst += static_cast<char>(kFin | kPing);
    burst += static_cast<char>(0x80 | p.size());
    burst += std::string("\0\0\0\0", 4);  // a zero mask
    burst += p;
  }
  ASSERT_TRUE(ws.write(burst));
  ws.frame(kFin | kText, R"({"type":"ping","id":4})");
  int pongs = 0;
  std::string last;
  for (;;) {
    auto f = ws.next();
    ASSERT_TRUE(f) << "the application pong arrives";
    if (f->opcode == kPong) {
      ++pongs;
      last = f->payload;
    } else if (f->opcode == kText && Json::parse(f->payload).value("type", "") == "pong") {
      break;
    }
  }
  EXPECT_EQ(last, "199") << "the latest ping is answered";
  EXPECT_LT(pongs, 200) << "pongs waiting are replaced, not queued";
}

TEST_F(WsProtocol, AFrameFarOverTheLimitGetsItsCloseFrameNotAReset) {
  auto a = user("wire");
  RawWs ws(server_->port(), a.token);
  ASSERT_TRUE(ws.upgraded());
  // 16 MiB claimed and sent (more than the kernel buffers between the two
  // ends hold): the server fails at the header, with most of the
  // bytes still on their way; it reads them away instead of resetting.
  std::string big(16 << 20, 'x');
  std::string header = {static_cast<char>(kFin | kText), static_cast<char>(0x80 | 127)};
  for (int i = 7; i >= 0; --i) header += static_cast<char>((big.size() >> (8 * i)) & 0xFF);
  header += std::string("\0\0\0\0", 4);
  // Closing at once would reset the connection under the client's write.
  EXPECT_TRUE(ws.write(header + big)) << "the server reads away what the client still sends";
  auto close = ws.next_of(kClose);
  ASSERT_TRUE(close) << "the close frame arrives";
  EXPECT_EQ(close_code(*close), 1009);
}

TEST_F(WsProtocol, ASilentPeerIsPingedThenClosedAtTheIdleTimeoutWhileOneThatAnswersStays) {
  auto a = user("wirc");
  // Before the upgrade: the server's clock for this socket starts after it.
  auto start = std::chrono::steady_clock::now();
  RawWs silent(server_->port(), a.token);
  RawWs answering(server_->port(), a.token);
  ASSERT_TRUE(silent.upgraded());
  ASSERT_TRUE(answering.upgraded());
  // One client answers every ping it gets, from the start, for 5 s.
  std::thread answerer([&] {
    while (std::chrono::steady_clock::now() < start + 5s) {
      if (auto p = answering.next_of(kPing, 200ms)) answering.frame(kFin | kPong, p->payload);
    }
  });

  // Half the idle timeout (2 s) without a byte: a ping.
  auto ping = silent.next_of(kPing, 3s);
  EXPECT_TRUE(ping) << "a silent socket is pinged";
  EXPECT_GE(std::chrono::steady_clock::now() - start, 900ms);
  // Unanswered, the socket is closed at the idle timeout.
  EXPECT_TRUE(silent.ended_within(3s)) << "an unanswered ping ends the socket";
  EXPECT_GE(std::chrono::steady_clock::now() - start, 1900ms);
  answerer.join();

  // The other is still served, well past the timeout.
  answering.frame(kFin | kText, R"({"type":"ping","id":3})");
  auto answer = answering.next_of(kText);
  ASSERT_TRUE(answer) << "a socket that answers pings stays open";
  EXPECT_EQ(Json::parse(answer->payload)["id"], 3);
}

}  // namespace
}  // namespace chatd::test
