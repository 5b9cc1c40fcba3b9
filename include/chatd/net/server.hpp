// The HTTP listener and its connections. Beast lives only in src/net/*.cpp;
// this header names nothing of it.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>
#include <string>

namespace boost::asio {
class io_context;
}

namespace chatd {
class WorkerPool;
}

namespace chatd::http {
class Dispatcher;
}

namespace chatd::net {

struct WebSocketGateway;

struct ServerOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8080;
  // Bodies read whole before their handler runs. Streaming routes
  // (uploads) read theirs as they go and enforce their own limit.
  std::size_t body_limit = 64 * 1024;
  std::size_t header_limit = 16 * 1024;
  // Waiting for the first byte of the next request on a kept-alive connection.
  std::chrono::milliseconds idle_timeout{60'000};
  // From the first byte of a request until all of it has arrived.
  std::chrono::milliseconds read_timeout{10'000};
  // Writing a response to a client that does not read.
  std::chrono::milliseconds write_timeout{30'000};
  // Reads the files of file responses (downloads); without it such a
  // response is answered 503.
  WorkerPool* disk = nullptr;
};

class Server {
 public:
  // Without a gateway, GET /v1/ws is an ordinary (unknown) route. `ioc` runs
  // the acceptor. Accepted connections are spread over `connection_contexts`
  // (round robin); each context is meant to be run by exactly one thread, so a
  // connection lives on one thread and needs no strand. Empty: all on `ioc`.
  Server(boost::asio::io_context& ioc, ServerOptions options, http::Dispatcher& dispatcher,
         WebSocketGateway* gateway = nullptr,
         std::vector<boost::asio::io_context*> connection_contexts = {});
  ~Server();

  // Binds, listens and starts accepting. Returns the bound port (useful when
  // the requested port is 0). Throws std::system_error when binding fails.
  std::uint16_t start();

  // Stops accepting and closes connections waiting for a request; requests in
  // flight finish and their connections then close.
  void begin_shutdown();

  std::size_t open_connections() const;
  std::size_t requests_in_flight() const;
  // WebSocket TCP sockets open after their upgrade (in a keep-alive list).
  std::size_t open_websockets() const;

  struct State;

 private:
  std::shared_ptr<State> state_;
};

}  // namespace chatd::net
