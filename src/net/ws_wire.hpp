// Private to the network layer: RFC 6455 framing, the server's side, with
// no I/O. Beast answers the upgrade; from then on chatd reads and writes
// frames itself, so that an idle socket holds no pending read with its
// buffer, only a readiness wait (docs/performance.md, memory per socket).
//
// FrameReader takes bytes as they arrive, in any split, and yields whole
// messages (reassembled from fragments), pings, pongs, the peer's close,
// or the error to fail the connection with. No extension is negotiated, so
// any reserved bit is an error; every client frame must be masked.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace chatd::net::ws {

enum class Opcode : std::uint8_t {
  continuation = 0x0,
  text = 0x1,
  binary = 0x2,
  close = 0x8,
  ping = 0x9,
  pong = 0xA,
};

// Close codes chatd sends or reads.
constexpr std::uint16_t kNormal = 1000;
constexpr std::uint16_t kProtocolError = 1002;
constexpr std::uint16_t kNoStatus = 1005;     // a close frame without a code
constexpr std::uint16_t kAbnormal = 1006;     // no close frame at all
constexpr std::uint16_t kInvalidPayload = 1007;
constexpr std::uint16_t kTooBig = 1009;

struct Inbound {
  enum class Kind { message, ping, pong, close, error };
  Kind kind = Kind::message;
  bool binary = false;     // message: a binary message (text otherwise)
  std::string payload;     // message body; ping or pong data; close or error reason
  std::uint16_t code = 0;  // close: the peer's code (kNoStatus when none); error: ours
};

class FrameReader {
 public:
  explicit FrameReader(std::size_t max_message) : max_message_(max_message) {}

  // Consumes `n` bytes and appends what they complete to `out`. After a
  // close or an error, nothing more is read (`done()`).
  void feed(const char* data, std::size_t n, std::vector<Inbound>& out);
  bool done() const { return done_; }

 private:
  void header_complete(std::vector<Inbound>& out);
  void frame_complete(std::vector<Inbound>& out);
  void fail(std::uint16_t code, const char* why, std::vector<Inbound>& out);

  std::size_t max_message_;
  bool done_ = false;
  // The frame under way: its header (up to 14 bytes) until complete, then its payload.
  std::uint8_t header_[14] = {};
  std::size_t header_have_ = 0;
  std::size_t header_need_ = 2;
  bool in_payload_ = false;
  Opcode opcode_ = Opcode::text;
  bool fin_ = false;
  std::uint64_t remaining_ = 0;
  std::uint8_t mask_[4] = {};
  std::size_t mask_at_ = 0;
  // A data message across its fragments; a control frame's payload.
  bool in_message_ = false;
  bool message_binary_ = false;
  std::string message_;
  std::string control_;
};

// A server frame's header (FIN set, unmasked) for `payload_size` bytes, in
// `out`; returns its length (2, 4 or 10).
std::size_t encode_header(Opcode op, std::size_t payload_size, std::uint8_t (&out)[10]);

// A close frame's payload: the code, then the reason cut to fit 125 bytes.
std::string close_payload(std::uint16_t code, std::string_view reason);

bool valid_utf8(std::string_view s);
// A code a peer may send in a close frame.
bool valid_close_code(std::uint16_t code);

}  // namespace chatd::net::ws
