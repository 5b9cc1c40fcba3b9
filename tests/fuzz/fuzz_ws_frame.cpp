// Client frames through the WebSocket protocol (ClientSession) with an
// in-memory log and socket: the input is split on newlines into frames.
// Whatever arrives, the session must answer in the protocol's shapes, never
// crash, and settle with nothing left in flight.
// Asio 1.18 needs std::exchange before awaitable.hpp is parsed.
#include <utility>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include <cstdint>
#include <cstdlib>
#include <string>

#include "unit/fake_chat.hpp"

using namespace chatd;
using namespace chatd::realtime;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  boost::asio::io_context io;
  FakeChat chat(io, 1);
  chat.max_delay_us = 0;
  for (int i = 0; i < 3; ++i) {
    chat.append(1);
    chat.append(2);
  }
  auto transport = std::make_shared<FakeTransport>(io);
  model::User user;
  user.id = 1;
  ClientSession::Limits limits;
  limits.recheck_spread = std::chrono::milliseconds(0);
  auto session = std::make_shared<ClientSession>(chat, transport, user, "hash", limits);
  boost::asio::co_spawn(io, ClientSession::start(session), boost::asio::detached);
  io.run();
  std::string in(reinterpret_cast<const char*>(data), size);
  std::size_t start = 0;
  while (start < in.size()) {
    auto end = in.find('\n', start);
    if (end == std::string::npos) end = in.size();
    session->on_frame(in.substr(start, end - start));
    start = end + 1;
  }
  // Sends are answered by the fake's commit in order, as the batcher would.
  for (std::size_t i = 0; i < chat.pending.size(); ++i) {
    domain::SentMessage m;
    m.message.json = "{}";
    chat.pending[i](nullptr, Expected<domain::SentMessage>(m));
  }
  io.restart();
  io.run();
  for (const auto& f : transport->frames) {
    if (!f.is_object() || !f.contains("type")) std::abort();
  }
  if (session->in_flight() != 0) std::abort();
  return 0;
}
