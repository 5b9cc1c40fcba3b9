// What the network layer needs to serve GET /v1/ws: who a token belongs to,
// the real-time side a client session talks to, and the socket limits.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>

#include "chatd/core/token_bucket.hpp"
#include "chatd/domain/account_service.hpp"
#include "chatd/http/cors.hpp"
#include "chatd/realtime/chat_port.hpp"
#include "chatd/realtime/hub.hpp"

namespace chatd::net {

struct WebSocketGateway {
  domain::AccountService& accounts;
  realtime::ChatPort& chat;
  realtime::Hub& hub;
  // Origins allowed to open a socket (a browser's Origin not in it gets 403).
  const http::Cors* cors = nullptr;
  // Silence for this long closes the socket; a ping goes out after half of it.
  std::chrono::milliseconds idle_timeout{60'000};
  // A browser that authenticates by frame must do so within this time.
  std::chrono::milliseconds auth_timeout{10'000};
  // Metrics hooks (optional): each socket's close code once it is gone, and
  // the seconds from a `send` frame to its answer.
  std::function<void(std::uint16_t)> on_close = nullptr;
  std::function<void(double)> on_send_answered = nullptr;
  std::size_t max_queued_frames = 1024;       // beyond: close 1013 (client too slow)
  std::size_t max_queued_bytes = 1024 * 1024;  // the same, in bytes
  std::size_t max_frame_bytes = 64 * 1024;
  std::size_t max_in_flight = 64;  // client frames being handled at once
  // New handshakes per second (reconnect storms); beyond: 503 with Retry-After.
  std::shared_ptr<TokenBucket> accept_rate = std::make_shared<TokenBucket>(0, 0);
};

}  // namespace chatd::net
