#include "ws_session.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>


#include <spdlog/spdlog.h>

#include "chatd/core/log_event.hpp"

#include "chatd/core/failures.hpp"
#include "chatd/core/fifo.hpp"
#include "chatd/domain/session_tokens.hpp"
#include "chatd/http/errors.hpp"
#include "chatd/net/websocket_gateway.hpp"
#include "chatd/realtime/auth_frame.hpp"
#include "chatd/realtime/client_session.hpp"

namespace chatd::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace websocket = boost::beast::websocket;

bool is_websocket_upgrade(const bhttp::request<bhttp::string_body>& req) {
  auto target = req.target();
  auto path = target.substr(0, target.find('?'));
  return path == "/v1/ws" && websocket::is_upgrade(req);
}

namespace {

using realtime::Frame;

// The socket side of one client: a single writer drains a queue bounded in
// frames and in bytes. The writer is a chain of completion handlers, not a
// coroutine: an idle socket holds no suspended frame and no wake-up timer
// for it (docs/performance.md, memory per socket).
class WsTransport final : public realtime::Transport,
                          public std::enable_shared_from_this<WsTransport> {
 public:
  WsTransport(beast::tcp_stream&& stream, std::size_t max_frames, std::size_t max_bytes)
      : ws_(std::move(stream)),
        executor_(ws_.get_executor()),
        max_frames_(max_frames),
        max_bytes_(max_bytes) {}

  websocket::stream<beast::tcp_stream>& ws() { return ws_; }
  asio::any_io_executor executor() const override { return executor_; }
  bool congested() const override {
    return queue_.size() > max_frames_ / 2 || bytes_ > max_bytes_ / 2;
  }
  bool open() const override { return open_ && !draining_; }
  // The code this side closed with, or the peer's, or 1006 (no close frame).
  std::uint16_t final_code() {
    if (close_requested_) return close_code_;
    auto peer = ws_.reason().code;
    return peer != websocket::close_code::none ? static_cast<std::uint16_t>(peer) : 1006;
  }

  void send(Frame frame) override {
    if (!open_ || draining_) return;
    if (queue_.size() >= max_frames_ || bytes_ + frame->size() > max_bytes_) {
      // Too slow to read: close rather than buffer without bound; it recovers with `sync`.
      close(1013, "client too slow; reconnect and sync");
      return;
    }
    bytes_ += frame->size();
    queue_.push_back(std::move(frame));
    if (!writing_) write_front();
  }

  void close(std::uint16_t code, std::string reason) override {
    if (!open_) return;
    open_ = false;
    draining_ = false;
    close_requested_ = true;
    close_code_ = code;
    close_reason_ = std::move(reason);
    clear();
    if (writing_) {
      close_pending_ = true;  // the write's completion closes
      return;
    }
    finish_close();
  }

  bool draining() const { return draining_; }

  void close_after_queued(std::uint16_t code, std::string reason) override {
    if (!open_ || draining_) return;
    if (queue_.empty() && !writing_) {
      close(code, std::move(reason));
      return;
    }
    draining_ = true;  // the writer closes once the queue is empty
    drain_code_ = code;
    drain_reason_ = std::move(reason);
  }

  // The reader saw the socket end.
  void closed() {
    open_ = false;
    draining_ = false;
    clear();
  }

 private:
  // Writes the queue's front; its completion writes the next. One write at a
  // time: `writing_` is set from here to the completion.
  void write_front() {
    writing_ = true;
    Frame frame = queue_.front();  // kept alive by the handler, whatever the queue does
    ws_.async_write(asio::buffer(*frame),
                    [self = shared_from_this(), frame](beast::error_code ec, std::size_t) {
                      self->written(ec);
                    });
  }

  void written(beast::error_code ec) {
    writing_ = false;
    if (ec) {
      closed();
      return;
    }
    if (close_pending_) {  // closed while the frame was going out
      finish_close();
      return;
    }
    if (!open_) return;
    if (!queue_.empty()) {
      bytes_ -= queue_.front()->size();
      queue_.pop_front();
    }
    if (!queue_.empty()) {
      write_front();
    } else if (draining_) {
      draining_ = false;
      close(drain_code_, std::move(drain_reason_));
    }
  }

  void clear() {
    queue_.clear();
    bytes_ = 0;
  }

  void finish_close() {
    close_pending_ = false;
    websocket::close_reason cr(static_cast<websocket::close_code>(close_code_));
    cr.reason = close_reason_;
    ws_.async_close(cr, [self = shared_from_this()](beast::error_code) {});
  }

  websocket::stream<beast::tcp_stream> ws_;
  asio::any_io_executor executor_;
  Fifo<Frame> queue_;
  std::size_t bytes_ = 0;  // of the frames in queue_
  std::size_t max_frames_;
  std::size_t max_bytes_;
  bool open_ = true;
  bool writing_ = false;
  bool close_pending_ = false;
  bool close_requested_ = false;
  bool draining_ = false;  // close_after_queued: closing once the queue is written
  std::uint16_t drain_code_ = 1001;
  std::string drain_reason_;
  std::uint16_t close_code_ = 1000;
  std::string close_reason_;
};

// Reads one frame with a deadline; empty on timeout or error.
asio::awaitable<std::optional<std::string>> read_auth_frame(std::shared_ptr<WsTransport> t,
                                                            std::chrono::milliseconds limit) {
  asio::steady_timer deadline(t->executor(), limit);
  // Shared, not a reference into this frame: the handler may run after we return.
  auto expired = std::make_shared<bool>(false);
  deadline.async_wait([t, expired](const beast::error_code& ec) {
    if (!ec) {
      *expired = true;
      t->close(1008, "authenticate within the time limit");
    }
  });
  beast::flat_buffer buffer;
  beast::error_code ec;
  co_await t->ws().async_read(buffer, asio::redirect_error(asio::use_awaitable, ec));
  deadline.cancel();
  if (ec || *expired) co_return std::nullopt;
  co_return beast::buffers_to_string(buffer.data());
}

// Answers an upgrade request with a plain HTTP refusal and closes.
asio::awaitable<void> refuse(std::shared_ptr<Connection> conn, http::Response res,
                             unsigned version) {
  auto wire = to_wire(res, version, false);
  beast::error_code ec;
  conn->stream.expires_after(std::chrono::seconds(5));
  co_await asio::async_write(conn->stream, asio::buffer(wire),
                             asio::redirect_error(asio::use_awaitable, ec));
  conn->stream.socket().close(ec);
}

// An accepted, authenticated socket and its session: all a connection
// keeps while it is open. The handshake's state (the upgrade request, the
// HTTP connection, the coroutine that authenticated it) is gone by then.
struct LiveSocket;

// Counts an accepted socket once, by its close code (not from a destructor:
// a frame destroyed with its io_context would outlive the metrics).
void count_close(WebSocketGateway& gw, WsTransport& t) {
  if (gw.on_close) gw.on_close(t.final_code());
}

// Refuses or accepts the upgrade, authenticates (header, or a first `auth`
// frame), attaches the session to the hub and starts it. Null when the
// socket is already over (refused, not authenticated, failed).
asio::awaitable<std::shared_ptr<LiveSocket>> open_websocket(
    std::shared_ptr<Server::State> st, std::shared_ptr<Connection> conn,
    bhttp::request<bhttp::string_body> req, std::string remote) {
  WebSocketGateway& gw = *st->gateway;
  beast::error_code ec;
  conn->idle = false;

  // A page on a site not allowed must not ride a user's socket (browsers
  // send Origin; native apps do not, and are not checked).
  std::optional<std::string> origin;
  if (auto it = req.find(bhttp::field::origin); it != req.end()) origin = std::string(it->value());
  if (gw.cors && gw.cors->refuses_socket(origin)) {
    auto res = http::error_response(
        Error::forbidden("forbidden", "this origin may not open a WebSocket to chatd"));
    co_await refuse(conn, std::move(res), req.version());
    co_return nullptr;
  }

  // Reconnect storms: beyond the handshake rate, answer 503 before any work.
  std::chrono::milliseconds wait{0};
  if (!gw.accept_rate->try_take(&wait)) {
    Error busy = Error::unavailable("too many new connections, retry shortly");
    busy.retry_after_ms = wait.count();  // Retry-After, rounded up to whole seconds
    co_await refuse(conn, http::error_response(busy), req.version());
    co_return nullptr;
  }

  // Header authentication, before the upgrade: a bad token gets a plain 401.
  std::optional<model::User> user;
  std::string token_hash;
  http::Request probe;
  for (const auto& f : req) {
    if (f.name() == bhttp::field::authorization) {
      probe.headers.emplace_back("authorization", std::string(f.value()));
    }
  }
  std::string token = probe.bearer_token();
  if (!token.empty()) {
    Expected<model::User> who;
    try {
      who = co_await gw.accounts.authenticate(token);
    } catch (...) {  // database away or pool full
      who = error_for_failure(std::current_exception(), "ws upgrade from " + remote);
    }
    if (!who) {
      auto res = http::error_response(who.error());
      co_await refuse(conn, std::move(res), req.version());
      co_return nullptr;
    }
    user = *who;
    token_hash = domain::hash_token(token);
  }

  conn->stream.expires_never();  // the WebSocket keeps its own timers
  // A fixed kernel send buffer: bounds memory per socket, and lets a client that
  // stops reading show up in our own queue instead of in megabytes of kernel buffers.
  conn->stream.socket().set_option(asio::socket_base::send_buffer_size(256 * 1024), ec);
  auto transport = std::make_shared<WsTransport>(std::move(conn->stream), gw.max_queued_frames,
                                                 gw.max_queued_bytes);
  conn.reset();  // its stream now lives in the transport
  auto& ws = transport->ws();
  websocket::stream_base::timeout timeouts{};
  timeouts.handshake_timeout = std::chrono::seconds(10);
  timeouts.idle_timeout = gw.idle_timeout;
  timeouts.keep_alive_pings = true;
  ws.set_option(timeouts);
  ws.read_message_max(gw.max_frame_bytes);
  ws.set_option(websocket::stream_base::decorator(
      [](websocket::response_type& res) { res.set(bhttp::field::server, "chatd"); }));
  co_await ws.async_accept(req, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return nullptr;
  // Every accepted socket is counted once, by its close code, on each path
  // that ends it from here on.

  if (!user) {
    auto first = co_await read_auth_frame(transport, gw.auth_timeout);
    if (!first) {
      count_close(gw, *transport);
      co_return nullptr;
    }
    std::string t = realtime::auth_token(*first).value_or("");
    // No co_await inside a conditional expression: g++ 12 miscompiles it.
    Expected<model::User> who = Error::unauthenticated("the first frame must be auth");
    try {
      if (!t.empty()) who = co_await gw.accounts.authenticate(t);
    } catch (const std::exception& e) {
      transport->close(1011, "database unavailable, reconnect shortly");
      count_close(gw, *transport);
      co_return nullptr;
    }
    if (!who) {
      transport->close(1008, who.error().message);
      count_close(gw, *transport);
      co_return nullptr;
    }
    user = *who;
    token_hash = domain::hash_token(t);
    transport->send(realtime::authenticated_frame(user->id));
  }

  realtime::ClientSession::Limits limits;
  limits.max_in_flight = gw.max_in_flight;
  limits.on_send_answered = gw.on_send_answered;
  auto client = std::make_shared<realtime::ClientSession>(gw.chat, transport, *user, token_hash,
                                                          limits);
  // Attached before it reads its start, so that nothing committed in between
  // is missed; detached by read_frames on every path.
  gw.hub.attach(client);
  try {
    co_await realtime::ClientSession::start(client);
  } catch (const std::exception& e) {
    transport->close(1011, "database unavailable, reconnect shortly");
    spdlog::warn("ws user {}: could not start: {}", user->id, e.what());
  }
  log_event(spdlog::level::info, "ws open", {{"user", user->id}, {"remote", remote}});
  if (st->stopping) client->shutdown();
  co_return std::make_shared<LiveSocket>(transport, client, user->id, std::move(remote));
}

// Reads the client's frames until the socket ends, then detaches it and
// untracks the connection. A chain of completion handlers, not a coroutine:
// an idle socket holds only this object, its read buffer and the read
// operation Beast keeps pending (docs/performance.md, memory per socket).
struct LiveSocket : std::enable_shared_from_this<LiveSocket> {
  LiveSocket(std::shared_ptr<WsTransport> t, std::shared_ptr<realtime::ClientSession> c,
             model::UserId u, std::string r)
      : transport(std::move(t)), client(std::move(c)), user(u), remote(std::move(r)) {}

  std::shared_ptr<Server::State> st;
  std::uint64_t id = 0;
  std::shared_ptr<WsTransport> transport;
  std::shared_ptr<realtime::ClientSession> client;
  model::UserId user = 0;
  std::string remote;
  beast::flat_buffer buffer;

  void read_next() {
    buffer.clear();
    // A large frame must not pin its buffer to an idle socket.
    if (buffer.capacity() > 8192) buffer.shrink_to_fit();
    transport->ws().async_read(buffer, [self = shared_from_this()](beast::error_code ec,
                                                                   std::size_t) {
      self->on_read(ec);
    });
  }

  void on_read(beast::error_code ec) {
    if (ec) {
      if (ec == websocket::error::message_too_big) transport->close(1009, "frame too large");
      end(ec);
      return;
    }
    if (!transport->open()) {
      // Closing after its last answers: what arrives now is not handled (the
      // client retries it elsewhere); keep reading until the close handshake.
      if (transport->draining()) {
        read_next();
        return;
      }
      end(ec);
      return;
    }
    if (transport->ws().got_binary()) {
      transport->close(1003, "text frames of JSON only");
      end(ec);
      return;
    }
    try {
      client->on_frame(beast::buffers_to_string(buffer.data()));
    } catch (const std::exception& e) {  // never out of a completion handler
      spdlog::error("ws user {}: frame failed: {}", user, e.what());
      transport->close(1011, "internal error");
      end(ec);
      return;
    }
    read_next();
  }

  void end(beast::error_code ec) {
    WebSocketGateway& gw = *st->gateway;
    transport->closed();
    gw.hub.detach(client.get());
    count_close(gw, *transport);
    log_event(spdlog::level::info, "ws closed",
              {{"user", user},
               {"remote", remote},
               {"code", static_cast<int>(transport->final_code())},
               {"reason", ec.message()}});
    st->untrack(id);
  }
};

}  // namespace

void start_websocket(std::shared_ptr<Server::State> st, std::shared_ptr<Connection> conn,
                     bhttp::request<bhttp::string_body> req, std::string remote,
                     std::uint64_t id) {
  auto ex = conn->stream.get_executor();
  auto untrack_on_failure = [st, id](std::exception_ptr e) {
    if (!e) return false;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& x) {
      spdlog::error("websocket session failed: {}", x.what());
    } catch (...) {
      spdlog::error("websocket session failed");
    }
    st->untrack(id);
    return true;
  };
  asio::co_spawn(
      ex, open_websocket(st, std::move(conn), std::move(req), std::move(remote)),
      [st, id, untrack_on_failure](std::exception_ptr e, std::shared_ptr<LiveSocket> live) {
        if (untrack_on_failure(e)) return;
        if (!live) {
          st->untrack(id);
          return;
        }
        live->st = st;
        live->id = id;
        live->read_next();
      });
}

}  // namespace chatd::net
