#include "ws_session.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include <array>
#include <chrono>
#include <functional>
#include <optional>
#include <vector>

#include <spdlog/spdlog.h>

#include "chatd/core/log_event.hpp"

#include "chatd/core/failures.hpp"
#include "chatd/core/fifo.hpp"
#include "chatd/domain/session_tokens.hpp"
#include "chatd/http/errors.hpp"
#include "chatd/net/websocket_gateway.hpp"
#include "chatd/realtime/auth_frame.hpp"
#include "chatd/realtime/client_session.hpp"
#include "out_queue.hpp"
#include "ws_wire.hpp"

namespace chatd::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace websocket = boost::beast::websocket;
using tcp = boost::asio::ip::tcp;

bool is_websocket_upgrade(const bhttp::request<bhttp::string_body>& req) {
  auto target = req.target();
  auto path = target.substr(0, target.find('?'));
  return path == "/v1/ws" && websocket::is_upgrade(req);
}

namespace {

using realtime::Frame;

// What a read gives: a message, or the end of the socket.
struct ReadResult {
  bool ended = false;
  bool binary = false;
  std::string payload;  // the message; or, at the end, why
};

// The socket side of one client, after Beast has answered the upgrade: chatd
// reads and writes the frames itself (ws_wire.hpp). An idle socket holds a
// readiness wait and nothing else: no pending read with its buffer, no timer
// (its keep-alive is its thread's KeepAliveList), no suspended coroutine
// (docs/performance.md, memory per socket).
//
// Writes: a single writer drains a queue bounded in frames and in bytes, one
// frame at a time, as a chain of completion handlers; presence waits in the
// queue's second lane, behind everything else (out_queue.hpp). Reads: async_read asks
// for one message; a readiness wait, then non-blocking reads until the
// kernel has no more, decoded into messages held until asked for. Pings are
// answered here; a close frame is answered and the TCP socket closed.
//
// Invariants, each touched only on the socket's thread:
//   * in the thread's KeepAliveList from construction until shut() closes
//     the TCP socket (or destruction);
//   * at most one readiness wait (`waiting_`) and one write (`writing_`);
//   * a read handler is called exactly once, with a message or the end; the
//     end is given once, after shut().
class WsTransport final : public realtime::Transport,
                          public KeepAliveList::Member,
                          public std::enable_shared_from_this<WsTransport> {
 public:
  struct Limits {
    std::size_t max_frames;
    std::size_t max_bytes;
    std::size_t max_message;
    std::chrono::milliseconds idle_timeout;
  };
  using ReadHandler = std::function<void(ReadResult)>;

  WsTransport(tcp::socket socket, std::shared_ptr<Server::State> st, std::size_t context,
              Limits limits)
      : socket_(std::move(socket)),
        executor_(socket_.get_executor()),
        st_(std::move(st)),
        context_(context),
        limits_(limits),
        reader_(limits.max_message),
        last_heard_(std::chrono::steady_clock::now()) {
    beast::error_code ec;
    socket_.non_blocking(true, ec);
    st_->keep_alive[context_].add(this);
  }
  ~WsTransport() override {
    if (!ended_) st_->keep_alive[context_].remove(this);
  }

  asio::any_io_executor executor() const override { return executor_; }
  bool congested() const override {
    return queue_.frames() > limits_.max_frames / 2 || queue_.bytes() > limits_.max_bytes / 2;
  }
  bool open() const override { return open_ && !draining_; }
  bool draining() const { return draining_; }
  // The code this side closed with, or the peer's, or 1006 (no close frame).
  std::uint16_t final_code() const {
    if (close_requested_) return close_code_;
    return peer_closed_ ? peer_code_ : ws::kAbnormal;
  }

  void send(Frame frame) override { enqueue(std::move(frame), OutQueue::Lane::first); }
  void send_deferred(Frame frame) override {
    enqueue(std::move(frame), OutQueue::Lane::deferred);
  }

  void close(std::uint16_t code, std::string reason) override {
    if (!open_) return;
    open_ = false;
    draining_ = false;
    close_requested_ = true;
    close_code_ = code;
    clear();
    send_close(ws::close_payload(code, reason));
  }

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

  // The reader is done with the socket: nothing more is sent.
  void closed() {
    open_ = false;
    draining_ = false;
    clear();
  }

  // Calls `h` once, with the next message or with the end of the socket.
  void async_read(ReadHandler h) {
    handler_ = std::move(h);
    pump();
  }

  void keep_alive(std::chrono::steady_clock::time_point now) override {
    if (ended_) return;
    if (close_sent_) {
      if (now >= close_deadline_) shut("close handshake timed out");
      return;
    }
    if (heard_) {
      heard_ = false;
      ping_sent_ = false;
      last_heard_ = now;
      return;
    }
    auto silent = now - last_heard_;
    if (silent >= limits_.idle_timeout) {
      shut("idle timeout");
    } else if (silent * 2 >= limits_.idle_timeout && !ping_sent_) {
      ping_sent_ = true;
      send_control(ws::Opcode::ping, "");
    }
  }

 private:
  // A frame for the client, in `lane`; over the bounds, closes instead.
  void enqueue(Frame frame, OutQueue::Lane lane) {
    if (!open_ || draining_) return;
    if (queue_.frames() >= limits_.max_frames ||
        queue_.bytes() + frame->size() > limits_.max_bytes) {
      // Too slow to read: close rather than buffer without bound; it recovers with `sync`.
      // Said now: the socket's "ws closed" line (with its user) comes only
      // once the close frame is out, or the closing handshake's 5 s are up.
      log_event(spdlog::level::warn, "ws too slow",
                {{"remote", peer_text(socket_)},
                 {"frames", static_cast<long long>(queue_.frames())},
                 {"bytes", static_cast<long long>(queue_.bytes())}});
      close(1013, "client too slow; reconnect and sync");
      return;
    }
    queue_.push(OutFrame{std::move(frame), ws::Opcode::text}, lane);
    if (!writing_) write_front();
  }

  // Hands out what was read, or the end; otherwise reads on.
  void pump() {
    if (pumping_) return;  // a handler asked again from inside a delivery
    pumping_ = true;
    while (handler_) {
      if (!inbox_.empty()) {
        ReadResult r = std::move(inbox_.front());
        inbox_.pop_front();
        auto h = std::exchange(handler_, nullptr);
        h(std::move(r));
        continue;
      }
      if (ended_) {
        auto h = std::exchange(handler_, nullptr);
        h(ReadResult{true, false, end_reason_});
      }
      break;
    }
    pumping_ = false;
    // Read while someone waits for a message, and after our close frame
    // (for the peer's), until the peer's close or the end.
    if ((handler_ || close_sent_) && !waiting_ && !ended_ && (!reader_.done() || lingering_)) {
      wait_readable();
    }
  }

  void wait_readable() {
    waiting_ = true;
    socket_.async_wait(tcp::socket::wait_read,
                       [self = shared_from_this()](beast::error_code ec) { self->on_readable(ec); });
  }

  void on_readable(beast::error_code ec) {
    waiting_ = false;
    if (ec) {
      shut(ec == asio::error::operation_aborted ? "closed" : ec.message());
      pump();
      return;
    }
    // Bytes go through one buffer per thread; only a message cut by the end
    // of a read stays with the socket (in the reader).
    thread_local std::array<char, 16384> scratch;
    std::vector<ws::Inbound> events;
    // A few reads at most, then the readiness wait again: other sockets on
    // this thread get their turn.
    for (int round = 0; round < 4 && !ended_ && (!reader_.done() || lingering_); ++round) {
      std::size_t n = socket_.read_some(asio::buffer(scratch), ec);
      if (ec == asio::error::would_block || ec == asio::error::try_again) break;
      if (ec) {
        shut(ec == asio::error::eof ? (lingering_ ? why_failed_ : "end of stream") : ec.message());
        break;
      }
      heard_ = true;
      if (lingering_) continue;  // failed: what the peer still sends is dropped
      reader_.feed(scratch.data(), n, events);
      for (auto& e : events) handle(std::move(e));
      events.clear();
      if (n < scratch.size()) break;
    }
    pump();
  }

  void handle(ws::Inbound&& in) {
    using Kind = ws::Inbound::Kind;
    switch (in.kind) {
      case Kind::message:
        // After our close frame, the peer's messages are not read.
        if (!close_sent_) inbox_.push_back(ReadResult{false, in.binary, std::move(in.payload)});
        return;
      case Kind::ping:
        // One pong waits at most, for the latest ping (RFC 6455 5.5.3): a
        // client sending pings without reading cannot grow the queue.
        if (!close_sent_) {
          pending_pong_ = std::make_shared<const std::string>(std::move(in.payload));
          if (!writing_) write_front();
        }
        return;
      case Kind::pong:
        return;
      case Kind::close:
        peer_closed_ = true;
        peer_code_ = in.code;
        if (close_sent_) {
          if (close_written_) shut("closed");  // otherwise when it is written
          return;
        }
        // Answer with the peer's code, then close the TCP socket.
        open_ = false;
        draining_ = false;
        clear();
        send_close(in.code == ws::kNoStatus ? std::string() : ws::close_payload(in.code, ""));
        return;
      case Kind::error:
        // Fail the connection: a close frame saying why, then no more
        // reading of what the peer sends until it closes (linger()).
        fail_after_close_ = true;
        why_failed_ = in.payload;
        if (close_sent_) {
          if (close_written_) linger();
          return;
        }
        if (!open_) {
          shut(std::move(in.payload));
          return;
        }
        close(in.code, std::move(in.payload));
        return;
    }
  }

  void send_control(ws::Opcode op, std::string payload) {
    queue_.push(OutFrame{std::make_shared<const std::string>(std::move(payload)), op});
    if (!writing_) write_front();
  }

  void send_close(std::string payload) {
    close_sent_ = true;
    close_deadline_ = std::chrono::steady_clock::now() + kCloseHandshake;
    send_control(ws::Opcode::close, std::move(payload));
  }

  // Writes a waiting pong, or else the queue's front; its completion writes the next.
  void write_front() {
    if (ended_) return;
    writing_ = true;
    OutFrame out;
    if (pending_pong_) {
      out = OutFrame{std::move(pending_pong_), ws::Opcode::pong};
      pending_pong_.reset();
    } else {
      out = queue_.pop();
    }
    writing_close_ = out.op == ws::Opcode::close;
    std::size_t n = ws::encode_header(out.op, out.payload->size(), header_);
    std::array<asio::const_buffer, 2> buffers{asio::buffer(header_, n),
                                              asio::buffer(*out.payload)};
    // The handler keeps the payload alive, whatever the queue does meanwhile.
    asio::async_write(socket_, buffers,
                      [self = shared_from_this(), frame = std::move(out.payload)](
                          beast::error_code ec, std::size_t) { self->written(ec); });
  }

  void written(beast::error_code ec) {
    writing_ = false;
    if (ec) {
      shut(ec == asio::error::operation_aborted ? "closed" : ec.message());
      pump();
      return;
    }
    if (writing_close_) {
      close_written_ = true;
      if (peer_closed_) {
        shut("closed");
      } else if (fail_after_close_) {
        linger();
      }
      pump();  // reads on for the peer's close frame, or gives the end
      return;
    }
    if (!queue_.empty() || pending_pong_) {
      write_front();
    } else if (draining_) {
      draining_ = false;
      close(drain_code_, std::move(drain_reason_));
    }
  }

  void clear() {
    queue_.clear();
    pending_pong_.reset();
  }

  // After failing: our close frame is out, our side of the TCP connection is
  // shut, and what the peer still sends is read and dropped until it closes
  // (or the close deadline). Closing at once, with its bytes unread, would
  // make the kernel answer with a reset that can destroy the close frame.
  void linger() {
    lingering_ = true;
    beast::error_code ec;
    socket_.shutdown(tcp::socket::shutdown_send, ec);
  }

  // The TCP socket closes: pending waits and writes end with
  // operation_aborted, the reader gets the end.
  void shut(std::string why) {
    if (ended_) return;
    ended_ = true;
    end_reason_ = std::move(why);
    open_ = false;
    draining_ = false;
    clear();
    st_->keep_alive[context_].remove(this);
    beast::error_code ec;
    socket_.shutdown(tcp::socket::shutdown_both, ec);
    socket_.close(ec);
    // Whatever was pending ends with operation_aborted and pumps; this
    // covers a reader waiting with nothing pending.
    asio::post(executor_, [self = shared_from_this()] { self->pump(); });
  }

  static constexpr std::chrono::seconds kCloseHandshake{5};

  tcp::socket socket_;
  asio::any_io_executor executor_;
  std::shared_ptr<Server::State> st_;  // its keep-alive list
  std::size_t context_;
  Limits limits_;
  ws::FrameReader reader_;
  Fifo<ReadResult> inbox_;  // read, not yet asked for
  ReadHandler handler_;
  OutQueue queue_;
  Frame pending_pong_;  // the answer to the latest ping, written first
  std::uint8_t header_[10] = {};  // of the frame being written
  std::chrono::steady_clock::time_point last_heard_;
  std::chrono::steady_clock::time_point close_deadline_;
  std::string end_reason_;
  std::string why_failed_;
  std::string drain_reason_;
  std::uint16_t drain_code_ = 1001;
  std::uint16_t close_code_ = 1000;
  std::uint16_t peer_code_ = ws::kNoStatus;
  bool open_ = true;
  bool draining_ = false;  // close_after_queued: closing once the queue is written
  bool writing_ = false;
  bool writing_close_ = false;
  bool waiting_ = false;
  bool pumping_ = false;
  bool heard_ = false;      // bytes arrived since the last keep-alive sweep
  bool ping_sent_ = false;  // since the peer was last heard
  bool close_requested_ = false;
  bool close_sent_ = false;
  bool close_written_ = false;
  bool fail_after_close_ = false;  // failing: linger() once the close frame is out
  bool lingering_ = false;
  bool peer_closed_ = false;
  bool ended_ = false;
};

// Reads one message with a deadline; empty on timeout or end.
asio::awaitable<std::optional<std::string>> read_auth_frame(std::shared_ptr<WsTransport> t,
                                                            std::chrono::milliseconds limit) {
  // Shared with the read handler, which may run after we return.
  auto deadline = std::make_shared<asio::steady_timer>(t->executor(), limit);
  auto result = std::make_shared<std::optional<ReadResult>>();
  t->async_read([deadline, result](ReadResult r) {
    *result = std::move(r);
    deadline->cancel();
  });
  if (!*result) {
    beast::error_code ec;
    co_await deadline->async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  if (!*result) {
    t->close(1008, "authenticate within the time limit");
    co_return std::nullopt;
  }
  if ((*result)->ended) co_return std::nullopt;
  co_return std::move((*result)->payload);
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
    bhttp::request<bhttp::string_body> req, std::string remote, std::size_t context) {
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

  conn->stream.expires_never();  // the WebSocket keeps its own deadlines
  // A fixed kernel send buffer: bounds memory per socket, and lets a client that
  // stops reading show up in our own queue instead of in megabytes of kernel buffers.
  conn->stream.socket().set_option(asio::socket_base::send_buffer_size(256 * 1024), ec);
  std::shared_ptr<WsTransport> transport;
  {
    // Beast answers the upgrade (and checks it); the frames are ours after it.
    websocket::stream<beast::tcp_stream> ws(std::move(conn->stream));
    conn.reset();  // its stream now lives in the handshake
    websocket::stream_base::timeout timeouts{};
    timeouts.handshake_timeout = std::chrono::seconds(10);
    timeouts.idle_timeout = websocket::stream_base::none();
    timeouts.keep_alive_pings = false;
    ws.set_option(timeouts);
    ws.set_option(websocket::stream_base::decorator(
        [](websocket::response_type& res) { res.set(bhttp::field::server, "chatd"); }));
    co_await ws.async_accept(req, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return nullptr;
    WsTransport::Limits limits{gw.max_queued_frames, gw.max_queued_bytes, gw.max_frame_bytes,
                               gw.idle_timeout};
    transport = std::make_shared<WsTransport>(ws.next_layer().release_socket(), st, context,
                                              limits);
  }
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
  limits.max_presence_waiting = gw.max_queued_frames;
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
// an idle socket holds only this object and its transport
// (docs/performance.md, memory per socket).
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

  void read_next() {
    transport->async_read([self = shared_from_this()](ReadResult r) { self->on_read(std::move(r)); });
  }

  void on_read(ReadResult r) {
    if (r.ended) {
      end(r.payload);
      return;
    }
    if (!transport->open()) {
      // Closing after its last answers: what arrives now is not handled (the
      // client retries it elsewhere); keep reading until the close handshake.
      if (transport->draining()) {
        read_next();
        return;
      }
      end("closed");
      return;
    }
    if (r.binary) {
      transport->close(1003, "text frames of JSON only");
      end("binary frame");
      return;
    }
    try {
      client->on_frame(r.payload);
    } catch (const std::exception& e) {  // never out of a completion handler
      spdlog::error("ws user {}: frame failed: {}", user, e.what());
      transport->close(1011, "internal error");
      end("internal error");
      return;
    }
    read_next();
  }

  void end(const std::string& why) {
    WebSocketGateway& gw = *st->gateway;
    transport->closed();
    gw.hub.detach(client.get());
    count_close(gw, *transport);
    log_event(spdlog::level::info, "ws closed",
              {{"user", user},
               {"remote", remote},
               {"code", static_cast<int>(transport->final_code())},
               {"reason", why}});
    st->untrack(id);
  }
};

}  // namespace

void start_websocket(std::shared_ptr<Server::State> st, std::shared_ptr<Connection> conn,
                     bhttp::request<bhttp::string_body> req, std::string remote,
                     std::uint64_t id, std::size_t context) {
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
      ex, open_websocket(st, std::move(conn), std::move(req), std::move(remote), context),
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
