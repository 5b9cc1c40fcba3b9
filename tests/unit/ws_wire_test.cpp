// RFC 6455 framing as chatd's server reads and writes it (src/net/ws_wire.hpp):
// what a client's bytes become, in any split, and which bytes fail the
// connection with which close code.
#include "net/ws_wire.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

namespace {

using namespace chatd::net::ws;
using Kind = Inbound::Kind;

// A client frame: masked, with the length in its shortest form unless told.
std::string frame(std::uint8_t first, const std::string& payload, bool masked = true,
                  int length_bytes = -1) {
  std::string out;
  out.push_back(static_cast<char>(first));
  std::size_t n = payload.size();
  int lb = length_bytes >= 0 ? length_bytes : n < 126 ? 0 : n <= 0xFFFF ? 2 : 8;
  std::uint8_t mask_bit = masked ? 0x80 : 0;
  if (lb == 0) {
    out.push_back(static_cast<char>(mask_bit | n));
  } else {
    out.push_back(static_cast<char>(mask_bit | (lb == 2 ? 126 : 127)));
    for (int i = lb - 1; i >= 0; --i) out.push_back(static_cast<char>((n >> (8 * i)) & 0xFF));
  }
  const std::uint8_t key[4] = {0x37, 0xfa, 0x21, 0x3d};
  if (masked) {
    for (auto k : key) out.push_back(static_cast<char>(k));
  }
  for (std::size_t i = 0; i < n; ++i) {
    out.push_back(static_cast<char>(payload[i] ^ (masked ? key[i & 3] : 0)));
  }
  return out;
}

constexpr std::uint8_t kFin = 0x80;
std::string text(const std::string& s) { return frame(kFin | 0x1, s); }

std::vector<Inbound> read_all(const std::string& bytes, std::size_t max = 1 << 20,
                              std::size_t chunk = 0) {
  FrameReader r(max);
  std::vector<Inbound> out;
  if (chunk == 0) chunk = bytes.size() ? bytes.size() : 1;
  for (std::size_t at = 0; at < bytes.size(); at += chunk) {
    r.feed(bytes.data() + at, std::min(chunk, bytes.size() - at), out);
  }
  return out;
}

std::uint16_t error_code_of(const std::string& bytes, std::size_t max = 1 << 20) {
  auto out = read_all(bytes, max);
  if (out.empty() || out.back().kind != Kind::error) return 0;
  return out.back().code;
}

TEST(WsWire, MaskedTextFramesBecomeMessagesInAnySplit) {
  std::string big(70000, 'x');  // a 64-bit length
  std::string mid(300, 'y');    // a 16-bit length
  std::string bytes = text("{\"type\":\"ping\"}") + text(mid) + text(big) + text("");
  for (std::size_t chunk : {std::size_t{0}, std::size_t{1}, std::size_t{3}, std::size_t{1000}}) {
    auto out = read_all(bytes, 1 << 20, chunk);
    ASSERT_EQ(out.size(), 4u) << "chunk " << chunk;
    EXPECT_EQ(out[0].kind, Kind::message);
    EXPECT_FALSE(out[0].binary);
    EXPECT_EQ(out[0].payload, "{\"type\":\"ping\"}");
    EXPECT_EQ(out[1].payload, mid);
    EXPECT_EQ(out[2].payload, big);
    EXPECT_EQ(out[3].payload, "");
  }
}

TEST(WsWire, FragmentsJoinAndControlFramesMayComeBetweenThem) {
  std::string bytes = frame(0x1, "hel") + frame(kFin | 0x9, "are you there") +
                      frame(0x0, "lo ") + frame(kFin | 0x0, "world") + frame(kFin | 0x2, "\x01\x02");
  auto out = read_all(bytes, 1 << 20, 2);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].kind, Kind::ping);
  EXPECT_EQ(out[0].payload, "are you there");
  EXPECT_EQ(out[1].kind, Kind::message);
  EXPECT_EQ(out[1].payload, "hello world");
  EXPECT_TRUE(out[2].binary);
  EXPECT_EQ(out[2].payload, std::string("\x01\x02"));
}

TEST(WsWire, UnmaskedReservedUnknownOrMisplacedFramesAreProtocolErrors) {
  EXPECT_EQ(error_code_of(frame(kFin | 0x1, "hi", false)), kProtocolError);  // unmasked
  EXPECT_EQ(error_code_of(frame(kFin | 0x40 | 0x1, "hi")), kProtocolError);  // RSV1
  EXPECT_EQ(error_code_of(frame(kFin | 0x3, "hi")), kProtocolError);         // opcode 3
  EXPECT_EQ(error_code_of(frame(kFin | 0x0, "hi")), kProtocolError);  // continuation alone
  EXPECT_EQ(error_code_of(frame(0x1, "a") + frame(kFin | 0x1, "b")), kProtocolError);
  EXPECT_EQ(error_code_of(frame(0x9, "x")), kProtocolError);                 // fragmented ping
  EXPECT_EQ(error_code_of(frame(kFin | 0x9, std::string(126, 'p'))), kProtocolError);
  EXPECT_EQ(error_code_of(frame(kFin | 0x1, "short", true, 2)), kProtocolError);  // not shortest
  EXPECT_EQ(error_code_of(frame(kFin | 0x1, std::string(300, 'a'), true, 8)), kProtocolError);
  EXPECT_EQ(error_code_of(text("fine")), 0);
}

TEST(WsWire, NothingIsReadAfterAnError) {
  auto out = read_all(frame(kFin | 0x1, "x", false) + text("after"));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].kind, Kind::error);
}

TEST(WsWire, AMessageOverTheLimitFailsWith1009EvenAcrossFragments) {
  EXPECT_EQ(error_code_of(text(std::string(101, 'a')), 100), kTooBig);
  EXPECT_EQ(error_code_of(text(std::string(100, 'a')), 100), 0);
  EXPECT_EQ(error_code_of(frame(0x1, std::string(60, 'a')) + frame(kFin | 0x0, std::string(41, 'b')), 100),
            kTooBig);
  // Refused at the header: a claimed 2^62 bytes allocates nothing.
  std::string huge = "\x81\xff";
  huge += std::string("\x40\x00\x00\x00\x00\x00\x00\x00", 8);
  huge += "abcd";
  EXPECT_EQ(error_code_of(huge, 100), kTooBig);
}

TEST(WsWire, TextMustBeUtf8WholeButMaySplitACharacterAcrossFragments) {
  EXPECT_EQ(error_code_of(text("caf\xc3")), kInvalidPayload);
  EXPECT_EQ(error_code_of(text("\xed\xa0\x80")), kInvalidPayload);  // a surrogate
  auto out = read_all(frame(0x1, "caf\xc3") + frame(kFin | 0x0, "\xa9 \xf0\x9f\x92\xac"));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].payload, "caf\xc3\xa9 \xf0\x9f\x92\xac");
  // Binary is not checked.
  EXPECT_EQ(error_code_of(frame(kFin | 0x2, "\xff\xfe")), 0);
}

TEST(WsWire, CloseFramesCarryTheirCodeAndEndTheReading) {
  auto out = read_all(frame(kFin | 0x8, std::string("\x03\xe8", 2) + "bye") + text("late"));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].kind, Kind::close);
  EXPECT_EQ(out[0].code, 1000);
  EXPECT_EQ(out[0].payload, "bye");
  out = read_all(frame(kFin | 0x8, ""));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].code, kNoStatus);
  EXPECT_EQ(error_code_of(frame(kFin | 0x8, "\x03")), kProtocolError);  // one byte
  EXPECT_EQ(error_code_of(frame(kFin | 0x8, std::string("\x03\xed", 2))), kProtocolError);  // 1005
  EXPECT_EQ(error_code_of(frame(kFin | 0x8, std::string("\x03\xe8\xc3", 3))), kInvalidPayload);
}

TEST(WsWire, ServerHeadersUseTheShortestLength) {
  std::uint8_t h[10];
  ASSERT_EQ(encode_header(Opcode::text, 125, h), 2u);
  EXPECT_EQ(h[0], 0x81);
  EXPECT_EQ(h[1], 125);
  ASSERT_EQ(encode_header(Opcode::close, 126, h), 4u);
  EXPECT_EQ(h[0], 0x88);
  EXPECT_EQ(h[1], 126);
  EXPECT_EQ((h[2] << 8) | h[3], 126);
  ASSERT_EQ(encode_header(Opcode::text, 65536, h), 10u);
  EXPECT_EQ(h[1], 127);
  EXPECT_EQ(h[7], 1);  // 0x00 00 00 00 00 01 00 00
  EXPECT_EQ(h[8], 0);
}

TEST(WsWire, CloseReasonsAreCutAtACharacterBoundary) {
  std::string reason(122, 'a');
  reason += "\xc3\xa9\xc3\xa9";  // é straddles byte 123
  auto p = close_payload(1008, reason);
  EXPECT_LE(p.size(), 125u);
  EXPECT_EQ(static_cast<std::uint8_t>(p[0]), 0x03);
  EXPECT_EQ(static_cast<std::uint8_t>(p[1]), 0xf0);
  EXPECT_TRUE(valid_utf8(p.substr(2)));
  EXPECT_EQ(p.substr(2), std::string(122, 'a'));
}

TEST(WsWire, Utf8Validation) {
  EXPECT_TRUE(valid_utf8(""));
  EXPECT_TRUE(valid_utf8("plain"));
  EXPECT_TRUE(valid_utf8("\xe4\xbd\xa0\xe5\xa5\xbd"));
  EXPECT_TRUE(valid_utf8("\xf4\x8f\xbf\xbf"));   // U+10FFFF
  EXPECT_FALSE(valid_utf8("\xf4\x90\x80\x80"));  // beyond
  EXPECT_FALSE(valid_utf8("\xc0\xaf"));          // overlong
  EXPECT_FALSE(valid_utf8("\xe0\x80\xaf"));      // overlong
  EXPECT_FALSE(valid_utf8("\x80"));
  EXPECT_FALSE(valid_utf8("\xe4\xbd"));
}

}  // namespace
