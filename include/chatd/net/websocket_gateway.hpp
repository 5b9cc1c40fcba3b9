// What the network layer needs to serve GET /v1/ws: who a token belongs to,
// the services a client session uses, and the socket limits.
#pragma once

#include <chrono>
#include <cstddef>

#include "chatd/domain/account_service.hpp"
#include "chatd/realtime/client_session.hpp"

namespace chatd::net {

struct WebSocketGateway {
  domain::AccountService& accounts;
  realtime::Services services;
  // Silence for this long closes the socket; a ping goes out after half of it.
  std::chrono::milliseconds idle_timeout{60'000};
  // A browser that authenticates by frame must do so within this time.
  std::chrono::milliseconds auth_timeout{10'000};
  std::size_t max_queued_frames = 1024;   // beyond: close 1013 (client too slow)
  std::size_t max_frame_bytes = 64 * 1024;
  std::size_t max_in_flight = 64;         // client frames being handled at once
};

}  // namespace chatd::net
