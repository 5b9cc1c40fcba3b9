// The floor under chatd's /healthz (bench/run.sh, http-floor): the least an
// HTTP/1.1 server built as chatd is built (Asio, an io_context per thread,
// one coroutine per connection, the socket read left pending between
// requests) can do per request. It finds the end of each request's header
// and answers the bytes chatd's /healthz answers, nothing else: no parser,
// no routing, no request object, no metrics, no allocation per request.
// chatd against this is what chatd's own code costs; this against nginx is
// what the library and the threading cost.
//
// It is also the floor under the connect storm (bench/run.sh, connect-rate):
// a request for /v1/ws is upgraded by Beast's own handshake and the socket is
// then held idle with Beast's read pending (chatd waits for readability
// instead, and holds less memory). No token, no
// database, no session, no presence: chatd against this is what chatd's
// authenticated, registered socket costs over a bare Beast WebSocket.
//
//   chatd_asio_floor PORT [THREADS]   (127.0.0.1 only; until killed)
#include <utility>  // before Asio: Boost 1.74's awaitable.hpp uses std::exchange

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket.hpp>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace asio = boost::asio;
namespace websocket = boost::beast::websocket;
using tcp = asio::ip::tcp;

namespace {

// chatd's /healthz answer, byte for byte in length (a fixed request id).
constexpr std::string_view kAnswer =
    "HTTP/1.1 200 OK\r\nServer: chatd\r\nContent-Type: application/json\r\n"
    "X-Request-Id: 000000000000000000000001\r\nContent-Length: 15\r\n\r\n"
    "{\"status\":\"ok\"}";

// Upgrades with the request already read (`request`), then reads until the
// client closes: the socket held idle, with Beast's read pending.
asio::awaitable<void> hold_websocket(tcp::socket socket, std::string request) {
  websocket::stream<tcp::socket> ws(std::move(socket));
  boost::system::error_code ec;
  co_await ws.async_accept(asio::buffer(request), asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return;
  request = std::string();  // the socket holds nothing more than Beast's state while idle
  boost::beast::flat_buffer frame;
  for (;;) {
    co_await ws.async_read(frame, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;
    frame.clear();
  }
}

asio::awaitable<void> serve(tcp::socket socket) {
  char buf[4096];
  std::size_t have = 0;
  boost::system::error_code ec;
  for (;;) {
    std::size_t n = co_await socket.async_read_some(asio::buffer(buf + have, sizeof buf - have),
                                                    asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;
    have += n;
    // Answer every complete request in the buffer (wrk does not pipeline,
    // but a client may), then keep what is left of an incomplete one.
    std::size_t answered = 0, start = 0;
    for (;;) {
      std::string_view rest(buf + start, have - start);
      auto end = rest.find("\r\n\r\n");
      if (end == std::string_view::npos) break;
      // A WebSocket upgrade (the connect storm) is the connection's first
      // and only request.
      if (start == 0 && rest.substr(0, 11) == "GET /v1/ws ") {
        co_await hold_websocket(std::move(socket), std::string(buf, end + 4));
        co_return;
      }
      start += end + 4;
      ++answered;
    }
    if (start == 0 && have == sizeof buf) co_return;  // a header this long is not wrk's
    std::memmove(buf, buf + start, have - start);
    have -= start;
    for (std::size_t i = 0; i < answered; ++i) {
      co_await asio::async_write(socket, asio::buffer(kAnswer.data(), kAnswer.size()),
                                 asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return;
    }
  }
}

asio::awaitable<void> accept_loop(tcp::acceptor& acceptor,
                                  std::vector<std::unique_ptr<asio::io_context>>& io) {
  std::size_t next = 0;
  for (;;) {
    auto& ctx = *io[next++ % io.size()];
    boost::system::error_code ec;
    tcp::socket socket = co_await acceptor.async_accept(ctx, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) continue;
    socket.set_option(tcp::no_delay(true), ec);
    asio::co_spawn(ctx, serve(std::move(socket)), asio::detached);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: chatd_asio_floor PORT [THREADS]\n";
    return 2;
  }
  auto port = static_cast<unsigned short>(std::atoi(argv[1]));
  int threads = argc > 2 ? std::max(1, std::atoi(argv[2])) : 2;
  std::vector<std::unique_ptr<asio::io_context>> io;
  for (int i = 0; i < threads; ++i) io.push_back(std::make_unique<asio::io_context>(1));
  tcp::acceptor acceptor(*io.front(), tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  asio::co_spawn(*io.front(), accept_loop(acceptor, io), asio::detached);
  // The other contexts have nothing to do until the first connection.
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards;
  for (auto& ctx : io) guards.push_back(asio::make_work_guard(*ctx));
  std::vector<std::thread> runners;
  for (int i = 1; i < threads; ++i) runners.emplace_back([&io, i] { io[static_cast<std::size_t>(i)]->run(); });
  io.front()->run();
  for (auto& t : runners) t.join();
}
