// Private to the network layer: one accepted TCP connection and the server's
// shared state, used by the HTTP and WebSocket sessions.
#pragma once

#include <utility>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include <atomic>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "chatd/http/message.hpp"
#include "chatd/net/server.hpp"
#include "http_parse.hpp"

namespace chatd::net {


struct Connection {
  explicit Connection(boost::asio::ip::tcp::socket socket) : stream(std::move(socket)) {}
  boost::beast::tcp_stream stream;
  // True only while waiting for the first byte of the next HTTP request: such
  // a connection has nothing in flight and may be closed at shutdown. Touched
  // only on the connection's thread (its io_context).
  bool idle = true;
};

struct Server::State : std::enable_shared_from_this<Server::State> {
  State(boost::asio::io_context& io, ServerOptions opt, http::Dispatcher& d, WebSocketGateway* g,
        std::vector<boost::asio::io_context*> ctxs)
      : ioc(io), contexts(std::move(ctxs)), options(std::move(opt)), dispatcher(d), gateway(g),
        acceptor(boost::asio::make_strand(io)) {
    if (contexts.empty()) contexts.push_back(&ioc);
  }
  // The context of the next accepted connection.
  boost::asio::io_context& next_context() { return *contexts[next_context_index++ % contexts.size()]; }

  boost::asio::io_context& ioc;
  std::vector<boost::asio::io_context*> contexts;
  std::size_t next_context_index = 0;  // only the accept loop touches it
  ServerOptions options;
  http::Dispatcher& dispatcher;
  WebSocketGateway* gateway;
  boost::asio::ip::tcp::acceptor acceptor;
  std::atomic<bool> stopping{false};
  std::atomic<std::size_t> in_flight{0};

  std::mutex mu;
  std::uint64_t next_id = 0;
  std::unordered_map<std::uint64_t, std::weak_ptr<Connection>> connections;

  std::uint64_t track(const std::shared_ptr<Connection>& c) {
    std::lock_guard lock(mu);
    connections.emplace(++next_id, c);
    return next_id;
  }
  void untrack(std::uint64_t id) {
    std::lock_guard lock(mu);
    connections.erase(id);
  }
};

}  // namespace chatd::net
