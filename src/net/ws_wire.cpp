#include "ws_wire.hpp"

#include <algorithm>

namespace chatd::net::ws {

namespace {

bool is_control(Opcode op) { return static_cast<std::uint8_t>(op) >= 0x8; }

bool known(std::uint8_t op) { return op <= 0x2 || (op >= 0x8 && op <= 0xA); }

}  // namespace

void FrameReader::fail(std::uint16_t code, const char* why, std::vector<Inbound>& out) {
  done_ = true;
  message_ = {};
  control_ = {};
  Inbound e;
  e.kind = Inbound::Kind::error;
  e.code = code;
  e.payload = why;
  out.push_back(std::move(e));
}

void FrameReader::feed(const char* data, std::size_t n, std::vector<Inbound>& out) {
  const auto* p = reinterpret_cast<const std::uint8_t*>(data);
  while (n > 0 && !done_) {
    if (!in_payload_) {
      std::size_t take = std::min(n, header_need_ - header_have_);
      std::copy(p, p + take, header_ + header_have_);
      header_have_ += take;
      p += take;
      n -= take;
      if (header_have_ == 2) {
        // The first two bytes say how long the header is.
        std::uint8_t len7 = header_[1] & 0x7F;
        header_need_ = 2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0) + ((header_[1] & 0x80) ? 4 : 0);
      }
      if (header_have_ == header_need_) header_complete(out);
      continue;
    }
    auto take = static_cast<std::size_t>(std::min<std::uint64_t>(n, remaining_));
    std::string& into = is_control(opcode_) ? control_ : message_;
    std::size_t at = into.size();
    into.resize(at + take);
    for (std::size_t i = 0; i < take; ++i) {
      into[at + i] = static_cast<char>(p[i] ^ mask_[(mask_at_ + i) & 3]);
    }
    mask_at_ = (mask_at_ + take) & 3;
    remaining_ -= take;
    p += take;
    n -= take;
    if (remaining_ == 0) frame_complete(out);
  }
}

void FrameReader::header_complete(std::vector<Inbound>& out) {
  std::uint8_t b0 = header_[0];
  std::uint8_t b1 = header_[1];
  fin_ = (b0 & 0x80) != 0;
  if (b0 & 0x70) return fail(kProtocolError, "reserved bits set", out);
  if (!known(b0 & 0x0F)) return fail(kProtocolError, "unknown opcode", out);
  opcode_ = static_cast<Opcode>(b0 & 0x0F);
  if (!(b1 & 0x80)) return fail(kProtocolError, "client frames must be masked", out);
  std::uint64_t len = b1 & 0x7F;
  std::size_t at = 2;
  if (len == 126) {
    len = (std::uint64_t{header_[2]} << 8) | header_[3];
    at = 4;
    if (len < 126) return fail(kProtocolError, "length not in its shortest form", out);
  } else if (len == 127) {
    len = 0;
    for (int i = 0; i < 8; ++i) len = (len << 8) | header_[2 + i];
    at = 10;
    if (len >> 63) return fail(kProtocolError, "length out of range", out);
    if (len < 65536) return fail(kProtocolError, "length not in its shortest form", out);
  }
  std::copy(header_ + at, header_ + at + 4, mask_);
  mask_at_ = 0;
  if (is_control(opcode_)) {
    if (!fin_) return fail(kProtocolError, "fragmented control frame", out);
    if (len > 125) return fail(kProtocolError, "control frame over 125 bytes", out);
    control_.clear();
  } else if (opcode_ == Opcode::continuation) {
    if (!in_message_) return fail(kProtocolError, "continuation without a message", out);
  } else {
    if (in_message_) return fail(kProtocolError, "new message inside a fragmented one", out);
    in_message_ = true;
    message_binary_ = opcode_ == Opcode::binary;
    message_.clear();
  }
  if (!is_control(opcode_) && len > max_message_ - message_.size()) {
    return fail(kTooBig, "message too big", out);
  }
  header_have_ = 0;
  header_need_ = 2;
  remaining_ = len;
  in_payload_ = true;
  if (remaining_ == 0) frame_complete(out);
}

void FrameReader::frame_complete(std::vector<Inbound>& out) {
  in_payload_ = false;
  Inbound in;
  switch (opcode_) {
    case Opcode::ping:
    case Opcode::pong:
      in.kind = opcode_ == Opcode::ping ? Inbound::Kind::ping : Inbound::Kind::pong;
      in.payload = std::move(control_);
      control_ = {};
      out.push_back(std::move(in));
      return;
    case Opcode::close: {
      if (control_.size() == 1) return fail(kProtocolError, "close frame of one byte", out);
      in.kind = Inbound::Kind::close;
      in.code = kNoStatus;
      if (control_.size() >= 2) {
        in.code = static_cast<std::uint16_t>((static_cast<std::uint8_t>(control_[0]) << 8) |
                                             static_cast<std::uint8_t>(control_[1]));
        if (!valid_close_code(in.code)) return fail(kProtocolError, "invalid close code", out);
        in.payload = control_.substr(2);
        if (!valid_utf8(in.payload)) return fail(kInvalidPayload, "close reason not UTF-8", out);
      }
      control_ = {};
      done_ = true;  // nothing after a close frame is read
      out.push_back(std::move(in));
      return;
    }
    default:
      break;
  }
  if (!fin_) return;  // more fragments to come
  in_message_ = false;
  if (!message_binary_ && !valid_utf8(message_)) {
    return fail(kInvalidPayload, "text message not UTF-8", out);
  }
  in.kind = Inbound::Kind::message;
  in.binary = message_binary_;
  in.payload = std::move(message_);
  message_ = {};  // an idle socket keeps no buffer
  out.push_back(std::move(in));
}

std::size_t encode_header(Opcode op, std::size_t payload_size, std::uint8_t (&out)[10]) {
  out[0] = static_cast<std::uint8_t>(0x80 | static_cast<std::uint8_t>(op));
  if (payload_size < 126) {
    out[1] = static_cast<std::uint8_t>(payload_size);
    return 2;
  }
  if (payload_size <= 0xFFFF) {
    out[1] = 126;
    out[2] = static_cast<std::uint8_t>(payload_size >> 8);
    out[3] = static_cast<std::uint8_t>(payload_size);
    return 4;
  }
  out[1] = 127;
  auto len = static_cast<std::uint64_t>(payload_size);
  for (int i = 0; i < 8; ++i) out[2 + i] = static_cast<std::uint8_t>(len >> (8 * (7 - i)));
  return 10;
}

std::string close_payload(std::uint16_t code, std::string_view reason) {
  constexpr std::size_t kMaxReason = 123;  // 125 less the code
  if (reason.size() > kMaxReason) {
    std::size_t cut = kMaxReason;
    // Not inside a UTF-8 sequence: back up over continuation bytes.
    while (cut > 0 && (static_cast<std::uint8_t>(reason[cut]) & 0xC0) == 0x80) --cut;
    reason = reason.substr(0, cut);
  }
  std::string out;
  out.reserve(2 + reason.size());
  out.push_back(static_cast<char>(code >> 8));
  out.push_back(static_cast<char>(code & 0xFF));
  out.append(reason);
  return out;
}

bool valid_utf8(std::string_view s) {
  const auto* p = reinterpret_cast<const std::uint8_t*>(s.data());
  const auto* end = p + s.size();
  while (p < end) {
    std::uint8_t c = *p;
    if (c < 0x80) {
      ++p;
      continue;
    }
    std::size_t len;
    std::uint8_t lo = 0x80, hi = 0xBF;  // bounds of the second byte
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      if (c == 0xE0) lo = 0xA0;  // overlong
      if (c == 0xED) hi = 0x9F;  // surrogates
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      if (c == 0xF0) lo = 0x90;  // overlong
      if (c == 0xF4) hi = 0x8F;  // beyond U+10FFFF
    } else {
      return false;
    }
    if (static_cast<std::size_t>(end - p) < len) return false;
    if (p[1] < lo || p[1] > hi) return false;
    for (std::size_t i = 2; i < len; ++i) {
      if ((p[i] & 0xC0) != 0x80) return false;
    }
    p += len;
  }
  return true;
}

bool valid_close_code(std::uint16_t code) {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
         (code >= 3000 && code <= 4999);
}

}  // namespace chatd::net::ws
