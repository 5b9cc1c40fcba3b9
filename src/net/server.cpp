#include "chatd/net/server.hpp"

#include <utility>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <atomic>
#include <limits>
#include <optional>
#include <variant>
#include <mutex>
#include <unordered_map>

#include <spdlog/spdlog.h>

#include "chatd/http/dispatcher.hpp"
#include "chatd/http/errors.hpp"
#include "chatd/net/websocket_gateway.hpp"
#include "connection.hpp"
#include "streaming.hpp"
#include "ws_session.hpp"

namespace chatd::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

void DeadlineList::expire(std::chrono::steady_clock::time_point now) {
  conns_.for_each([now](Connection* c) {
    if (c->deadline <= now) {
      c->disarm();
      beast::error_code ec;
      c->stream.socket().cancel(ec);
    }
  });
}

void configure(RequestParser& parser, const ServerOptions& opt) {
  parser.header_limit(static_cast<std::uint32_t>(opt.header_limit));
  parser.body_limit(opt.body_limit);
  parser.eager(true);
}

void configure_header_first(RequestParser& parser, const ServerOptions& opt) {
  parser.header_limit(static_cast<std::uint32_t>(opt.header_limit));
  // No body limit yet: a streaming route has its own. continue_whole sets
  // the server's once the route is known. (Not boost::none: Beast 1.74
  // compares a Content-Length with it as if none were the smallest limit.)
  parser.body_limit(std::numeric_limits<std::uint64_t>::max());
  parser.eager(false);
}

beast::error_code continue_whole(RequestParser& parser, const ServerOptions& opt) {
  if (auto length = parser.content_length(); length && *length > opt.body_limit) {
    return bhttp::error::body_limit;
  }
  parser.body_limit(opt.body_limit);
  parser.eager(true);
  return {};
}

Error refusal_for(const beast::error_code& ec, const ServerOptions& opt) {
  if (ec == bhttp::error::body_limit) {
    return {ErrorKind::payload_too_large, "payload_too_large",
            "request body exceeds " + std::to_string(opt.body_limit) + " bytes"};
  }
  if (ec == bhttp::error::header_limit) {
    return {ErrorKind::payload_too_large, "payload_too_large",
            "request header exceeds " + std::to_string(opt.header_limit) + " bytes"};
  }
  return Error::invalid("malformed HTTP request: " + ec.message());
}

http::Request to_request_header(const bhttp::request_header<>& in, const std::string& remote) {
  http::Request out;
  out.method = std::string(in.method_string());
  out.target = std::string(in.target());
  out.remote = remote;
  for (const auto& field : in) {
    std::string name(field.name_string());
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out.headers.emplace_back(std::move(name), std::string(field.value()));
  }
  return out;
}

http::Request to_request(bhttp::request<bhttp::string_body>&& in, const std::string& remote) {
  http::Request out = to_request_header(in, remote);
  out.body = std::move(in.body());
  return out;
}

namespace {
void append_number(std::string& out, std::uint64_t n) {
  char digits[20];
  char* end = digits + sizeof digits;
  char* p = end;
  do {
    *--p = static_cast<char>('0' + n % 10);
    n /= 10;
  } while (n != 0);
  out.append(p, end);
}
}  // namespace

std::string to_wire(const http::Response& in, unsigned version, bool keep_alive, bool head) {
  // Every header value here was produced by chatd (the echoed X-Request-Id is
  // checked to be printable ASCII), so one buffer can be written directly:
  // cheaper than a generic serializer for responses this small.
  auto status = static_cast<bhttp::status>(in.status);
  auto reason = bhttp::obsolete_reason(status);
  std::string out;
  std::size_t headers = 0;
  for (const auto& [k, v] : in.headers) headers += k.size() + v.size() + 4;
  out.reserve(128 + in.content_type.size() + headers + in.body.size());
  // Appended piece by piece: no temporary strings.
  out += version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ";
  append_number(out, static_cast<std::uint64_t>(in.status));
  out += ' ';
  out.append(reason.data(), reason.size());
  out += "\r\nServer: chatd\r\n";
  if (!in.content_type.empty()) {
    out += "Content-Type: ";
    out += in.content_type;
    out += "\r\n";
  }
  for (const auto& [k, v] : in.headers) {
    out += k;
    out += ": ";
    out += v;
    out += "\r\n";
  }
  bool bodyless = in.status == 204 || in.status == 304 || in.status < 200;
  if (!bodyless) {
    out += "Content-Length: ";
    append_number(out, in.file ? in.file_length : in.body.size());
    out += "\r\n";
  }
  if (version == 10 && keep_alive) out += "Connection: keep-alive\r\n";
  if (version != 10 && !keep_alive) out += "Connection: close\r\n";
  out += "\r\n";
  if (!bodyless && !in.file && !head) out += in.body;
  return out;
}

namespace {

// After an error answer, stop sending and read what the client still sends
// (an upload refused at its start may have megabytes in flight), so that
// closing does not reset the connection before the client has read the
// answer. At most 5 s and 64 MiB; a client silent for 1 s is done.
asio::awaitable<void> linger_close(std::shared_ptr<Connection> conn) {
  beast::error_code ec;
  conn->stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  std::vector<char> sink(64 * 1024);
  std::size_t total = 0;
  while (total < (std::size_t{64} << 20) && std::chrono::steady_clock::now() < deadline) {
    conn->stream.expires_after(std::chrono::seconds(1));
    std::size_t n = co_await conn->stream.async_read_some(
        asio::buffer(sink), asio::redirect_error(asio::use_awaitable, ec));
    if (ec) break;
    total += n;
  }
  conn->stream.socket().close(ec);
}

// Answers a request refused before it was complete, then the caller closes.
// Arguments by value: g++ 12 mishandles references to temporaries across co_await.
asio::awaitable<void> write_rejection(std::shared_ptr<Server::State> st,
                                      std::shared_ptr<Connection> conn, http::Request partial,
                                      Error error) {
  auto wire = to_wire(st->dispatcher.reject(partial, error), 11, false);
  beast::error_code ec;
  conn->stream.expires_after(std::chrono::seconds(5));
  co_await asio::async_write(conn->stream, asio::buffer(wire),
                             asio::redirect_error(asio::use_awaitable, ec));
}

// Keeps a connection in its thread's DeadlineList for the life of serve().
struct Watched {
  Watched(DeadlineList& l, Connection* c) : list(l), conn(c) { list.add(conn); }
  ~Watched() { list.remove(conn); }
  Watched(const Watched&) = delete;
  Watched& operator=(const Watched&) = delete;
  DeadlineList& list;
  Connection* conn;
};

asio::awaitable<void> serve(std::shared_ptr<Server::State> st, std::shared_ptr<Connection> conn,
                            std::uint64_t id, std::size_t context) {
  const ServerOptions& opt = st->options;
  Watched watched(st->deadlines[context], conn.get());
  beast::flat_buffer buffer;
  beast::error_code ec;
  std::string remote = peer_text(conn->stream.socket());
  bool lingering = false;
  for (;;) {
    if (buffer.size() == 0) {
      // Idle between requests: wait for the next one's first byte.
      conn->idle = true;
      if (st->stopping) break;
      // One read, left pending until the request's first bytes arrive. After
      // a read that drained the socket, Asio does not try the next one at
      // once (which fails with EAGAIN) but queues it on the descriptor that
      // is registered with epoll once: no system call until data comes. (A
      // readiness wait, async_wait, re-arms the descriptor with epoll_ctl
      // every time: one system call per request.)
      conn->arm(opt.idle_timeout);
      std::size_t n = co_await conn->stream.socket().async_read_some(
          buffer.prepare(4096), asio::redirect_error(asio::use_awaitable, ec));
      conn->idle = false;
      if (ec) break;
      buffer.commit(n);
    }
    conn->idle = false;
    // The request has begun: all of it must arrive within the read timeout.
    conn->arm(opt.read_timeout);

    RequestParser parser;
    configure_header_first(parser, opt);
    // Usually the whole request is already in the buffer: parse it in place,
    // without another asynchronous read (and its deadline timer). The header
    // first: whether the body is read now or by its handler depends on the route.
    ec = {};
    buffer.consume(parser.put(buffer.data(), ec));
    if (ec == bhttp::error::need_more) ec = {};
    if (!ec && !parser.is_header_done()) {
      co_await bhttp::async_read_header(conn->stream, buffer, parser,
                                        asio::redirect_error(asio::use_awaitable, ec));
    }
    bool streaming = false;
    if (!ec) {
      auto method = parser.get().method_string();
      auto target = parser.get().target();
      streaming = st->dispatcher.streams_body(std::string_view(method.data(), method.size()),
                                              std::string_view(target.data(), target.size()));
    }
    if (!ec && !streaming) {
      ec = continue_whole(parser, opt);
      if (!ec && !parser.is_done()) {
        buffer.consume(parser.put(buffer.data(), ec));
        if (ec == bhttp::error::need_more) ec = {};
      }
      if (!ec && !parser.is_done()) {
        co_await bhttp::async_read(conn->stream, buffer, parser,
                                   asio::redirect_error(asio::use_awaitable, ec));
      }
    }
    conn->disarm();  // a handler may take its time (a streamed body keeps its own)
    if (ec == bhttp::error::end_of_stream || ec == beast::error::timeout ||
        ec == asio::error::operation_aborted || ec == asio::error::connection_reset) {
      break;  // closed, too slow, or shut down: nothing to answer
    }
    if (ec) {
      Error refusal = refusal_for(ec, opt);
      // What is known of the request (the header, when it was complete).
      http::Request partial;
      if (parser.is_header_done()) {
        partial = to_request(parser.release(), remote);
        partial.body.clear();
      }
      co_await write_rejection(st, conn, std::move(partial), std::move(refusal));
      lingering = true;
      break;
    }

    if (st->gateway && is_websocket_upgrade(parser.get())) {
      // The connection becomes a WebSocket. Its session runs on as coroutines
      // of its own and this one ends, so that an open socket keeps nothing of
      // the HTTP side (this frame, its read buffer): memory per idle socket.
      start_websocket(st, std::move(conn), parser.release(), std::move(remote), id, context);
      co_return;
    }
    st->in_flight.fetch_add(1);
    auto& beast_req = parser.get();
    unsigned version = beast_req.version();
    bool keep_alive = beast_req.keep_alive();
    bool head = beast_req.method() == bhttp::verb::head;
    // Set by one branch (not default-constructed first: see dispatch()).
    std::optional<http::Response> answer;
    if (streaming) {
      // The handler reads the body as it arrives (an upload).
      bool expect_continue =
          version == 11 && beast::iequals(beast_req[bhttp::field::expect], "100-continue");
      http::Request request = to_request_header(beast_req, remote);
      StreamParser body_parser(std::move(parser));
      // The handler enforces its own limit (see configure_header_first).
      body_parser.body_limit(std::numeric_limits<std::uint64_t>::max());
      StreamedBody body(*conn, buffer, body_parser, expect_continue, opt.read_timeout);
      request.body_source = &body;
      // Awaited while `body` lives (uploads are few: handle()'s frame is fine).
      answer.emplace(co_await st->dispatcher.handle(std::move(request)));
      // A body not read to its end (a refusal): the connection cannot carry
      // another request. Close after the answer, letting the client read it.
      if (!body.done()) {
        keep_alive = false;
        lingering = true;
      }
    } else {
      // Most answers are ready at once; a handler that waits (the database)
      // is awaited here, with no coroutine frame between.
      http::Dispatched dispatched = st->dispatcher.dispatch(to_request(parser.release(), remote));
      if (auto* task = std::get_if<Task<http::Response>>(&dispatched)) {
        answer.emplace(co_await std::move(*task));
      } else {
        answer.emplace(std::move(std::get<http::Response>(dispatched)));
      }
    }
    http::Response response = std::move(*answer);
    if (response.file && !opt.disk) {
      response = st->dispatcher.reject({}, Error::unavailable("no disk workers"));
    }
    keep_alive = keep_alive && !response.close && !st->stopping;
    // HEAD: the header GET would send (its Content-Length), no body.
    auto wire = to_wire(response, version, keep_alive, head);
    // Most answers fit in the socket's send buffer: written at once (the
    // socket is non-blocking), with no asynchronous operation and its round
    // through the scheduler. What does not fit is written as the socket
    // drains, on the socket itself: the deadline list times that write, and
    // Beast's stream layer (its own timer checks) is not needed.
    std::size_t written = conn->stream.socket().send(asio::buffer(wire), 0, ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) {
      ec = {};
      written = 0;
    }
    if (!ec && written < wire.size()) {
      conn->arm(opt.write_timeout);
      co_await asio::async_write(conn->stream.socket(), asio::buffer(wire) + written,
                                 asio::redirect_error(asio::use_awaitable, ec));
      conn->disarm();
    }
    bool bodyless = response.status == 204 || response.status == 304 || response.status < 200;
    if (!ec && response.file && !bodyless && !head && response.file_length > 0) {
      bool sent = co_await send_file(*conn, *opt.disk, response.file, response.file_offset,
                                     response.file_length, opt.write_timeout);
      if (!sent) ec = asio::error::broken_pipe;
    }
    // A streamed body or file set the stream's own timer: the next request
    // is timed by the deadline list again.
    if (streaming || response.file) conn->stream.expires_never();
    st->in_flight.fetch_sub(1);
    if (ec || !keep_alive) break;
  }
  if (lingering) {
    co_await linger_close(conn);
  } else {
    conn->stream.socket().shutdown(tcp::socket::shutdown_both, ec);
    conn->stream.socket().close(ec);
  }
  st->untrack(id);
}

asio::awaitable<void> accept_loop(std::shared_ptr<Server::State> st) {
  for (;;) {
    beast::error_code ec;
    std::size_t context = st->next_context();
    tcp::socket socket = co_await st->acceptor->async_accept(
        *st->contexts[context], asio::redirect_error(asio::use_awaitable, ec));
    if (st->stopping || ec == asio::error::operation_aborted) co_return;
    if (ec) {
      // Out of descriptors or a transient error: back off instead of spinning.
      spdlog::warn("accept failed: {}", ec.message());
      asio::steady_timer pause(st->acceptor->get_executor(), std::chrono::milliseconds(50));
      co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    socket.set_option(tcp::no_delay(true), ec);
    // Non-blocking: serve() reads what a readiness wait announced.
    socket.non_blocking(true, ec);
    auto conn = std::make_shared<Connection>(std::move(socket));
    auto id = st->track(conn);
    asio::co_spawn(conn->stream.get_executor(), serve(st, conn, id, context), asio::detached);
  }
}

// Enforces the deadlines of one context's connections, every `tick`. Holds
// the state weakly: it must not keep the server alive.
asio::awaitable<void> sweep_deadlines(std::weak_ptr<Server::State> weak, std::size_t context,
                                      std::chrono::milliseconds tick) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  for (;;) {
    timer.expires_after(tick);
    beast::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    auto st = weak.lock();
    if (!st || ec) co_return;
    auto now = std::chrono::steady_clock::now();
    st->deadlines[context].expire(now);
    st->keep_alive[context].sweep(now);
  }
}

}  // namespace

Server::Server(asio::io_context& ioc, ServerOptions options, http::Dispatcher& dispatcher,
               WebSocketGateway* gateway, std::vector<asio::io_context*> connection_contexts)
    : state_(std::make_shared<State>(ioc, std::move(options), dispatcher, gateway,
                                     std::move(connection_contexts))) {}

// The IO contexts are destroyed after the server (application.cpp), in
// order; an operation pending on one may hold the state and release it as
// that context goes, after the acceptor's own context is gone (ASan:
// heap-use-after-free). So the acceptor goes here, with every context alive.
Server::~Server() {
  if (state_) state_->acceptor.reset();
}

std::uint16_t Server::start() {
  auto& st = *state_;
  auto address = asio::ip::make_address(st.options.host);
  tcp::endpoint endpoint(address, st.options.port);
  st.acceptor->open(endpoint.protocol());
  st.acceptor->set_option(asio::socket_base::reuse_address(true));
  st.acceptor->bind(endpoint);
  st.acceptor->listen(asio::socket_base::max_listen_connections);
  auto port = st.acceptor->local_endpoint().port();
  asio::co_spawn(st.acceptor->get_executor(), accept_loop(state_), asio::detached);
  // A deadline (or a WebSocket keep-alive) is enforced within an eighth of
  // the shortest timeout.
  auto shortest = std::min({st.options.idle_timeout, st.options.read_timeout, st.options.write_timeout});
  if (st.gateway) shortest = std::min(shortest, st.gateway->idle_timeout);
  auto tick = std::clamp(shortest / 8, std::chrono::milliseconds(10), std::chrono::milliseconds(500));
  for (std::size_t i = 0; i < st.contexts.size(); ++i) {
    asio::co_spawn(*st.contexts[i], sweep_deadlines(state_, i, tick), asio::detached);
  }
  return port;
}

void Server::begin_shutdown() {
  auto st = state_;
  st->stopping = true;
  asio::post(st->acceptor->get_executor(), [st] {
    beast::error_code ec;
    if (st->acceptor) st->acceptor->close(ec);
  });
  std::lock_guard lock(st->mu);
  for (auto& [id, weak] : st->connections) {
    if (auto conn = weak.lock()) {
      asio::post(conn->stream.get_executor(), [conn] {
        if (conn->idle) conn->stream.cancel();
      });
    }
  }
}

std::size_t Server::open_connections() const {
  std::lock_guard lock(state_->mu);
  return state_->connections.size();
}

std::size_t Server::requests_in_flight() const { return state_->in_flight.load(); }

std::size_t Server::open_websockets() const { return state_->open_websockets.load(); }

}  // namespace chatd::net
