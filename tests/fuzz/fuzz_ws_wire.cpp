// Bytes from a client's socket through the server's WebSocket frame reader
// (src/net/ws_wire.hpp), in the splits the first byte picks. Whatever
// arrives: no message over the limit, every text message valid UTF-8,
// every error a close code a server may send, nothing after an error or a
// close; and the same bytes in one piece give the same result.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "net/ws_wire.hpp"

using namespace chatd::net::ws;

namespace {

constexpr std::size_t kMax = 4096;

std::vector<Inbound> run(const char* data, std::size_t size, std::size_t chunk) {
  FrameReader r(kMax);
  std::vector<Inbound> out;
  for (std::size_t at = 0; at < size; at += chunk) {
    std::size_t before = out.size();
    bool was_done = r.done();
    r.feed(data + at, std::min(chunk, size - at), out);
    if (was_done && out.size() != before) std::abort();  // read after the end
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::size_t chunk = 1 + data[0] % 64;
  const char* bytes = reinterpret_cast<const char*>(data + 1);
  auto split = run(bytes, size - 1, chunk);
  auto whole = run(bytes, size - 1, size);
  if (split.size() != whole.size()) std::abort();
  for (std::size_t i = 0; i < split.size(); ++i) {
    const Inbound& a = split[i];
    const Inbound& b = whole[i];
    if (a.kind != b.kind || a.payload != b.payload || a.code != b.code || a.binary != b.binary) {
      std::abort();
    }
    bool last = i + 1 == split.size();
    switch (a.kind) {
      case Inbound::Kind::message:
        if (a.payload.size() > kMax) std::abort();
        if (!a.binary && !valid_utf8(a.payload)) std::abort();
        break;
      case Inbound::Kind::ping:
      case Inbound::Kind::pong:
        if (a.payload.size() > 125) std::abort();
        break;
      case Inbound::Kind::close:
        if (!last) std::abort();
        if (a.code != kNoStatus && !valid_close_code(a.code)) std::abort();
        break;
      case Inbound::Kind::error:
        if (!last) std::abort();
        if (a.code != kProtocolError && a.code != kInvalidPayload && a.code != kTooBig) std::abort();
        break;
    }
  }
  return 0;
}
