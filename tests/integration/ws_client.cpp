#include "ws_client.hpp"

#include <deque>
#include <utility>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

namespace chatd::test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = boost::beast::websocket;

struct WsClient::Impl {
  asio::io_context ioc;
  websocket::stream<beast::tcp_stream> ws{ioc};
  beast::flat_buffer buffer;
  std::deque<Json> stash;  // frames read while waiting for the ready pong
  bool reading = false;  // an async_read is pending
  bool done = false;
  beast::error_code result;
};

WsClient::WsClient(std::uint16_t port, const std::string& token, int receive_buffer,
                   const std::string& origin)
    : impl_(std::make_unique<Impl>()) {
  auto& ws = impl_->ws;
  auto& socket = beast::get_lowest_layer(ws).socket();
  socket.open(asio::ip::tcp::v4());
  if (receive_buffer > 0) socket.set_option(asio::socket_base::receive_buffer_size(receive_buffer));
  socket.connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  ws.set_option(websocket::stream_base::decorator([token, origin](websocket::request_type& req) {
    if (!token.empty()) req.set(beast::http::field::authorization, "Bearer " + token);
    if (!origin.empty()) req.set(beast::http::field::origin, origin);
  }));
  websocket::response_type res;
  beast::error_code ec;
  ws.handshake(res, "127.0.0.1", "/v1/ws", ec);
  handshake_ok_ = !ec;
  // (A refusal's status is checked over plain HTTP: Beast 1.74 leaves `res` empty.)
  ws.read_message_max(16 << 20);
  // The server reads a socket's frames only once its session has started:
  // a ping's answer proves it, so that what a test commits next reaches the
  // socket live (the upgrade's 101 comes before the session's start).
  if (handshake_ok_ && !token.empty()) {
    send({{"type", "ping"}, {"id", "ws-client-ready"}});
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) break;
      auto f = read_wire(left);
      if (!f) break;
      if (f->is_object() && f->value("type", "") == "pong" &&
          f->value("id", Json()) == "ws-client-ready") {
        break;
      }
      impl_->stash.push_back(std::move(*f));
    }
  }
}

WsClient::~WsClient() {
  beast::error_code ec;
  beast::get_lowest_layer(impl_->ws).socket().close(ec);
  // Let a pending read finish before its buffer goes.
  impl_->ioc.restart();
  impl_->ioc.run_for(std::chrono::seconds(1));
}

void WsClient::send(const Json& frame) { send_text(frame.dump()); }

void WsClient::send_text(const std::string& text) {
  beast::error_code ec;
  impl_->ws.text(true);
  impl_->ws.write(asio::buffer(text), ec);
}

void WsClient::send_binary(const std::string& bytes) {
  beast::error_code ec;
  impl_->ws.binary(true);
  impl_->ws.write(asio::buffer(bytes), ec);
  impl_->ws.text(true);
}

std::optional<Json> WsClient::read(std::chrono::milliseconds timeout) {
  if (!impl_->stash.empty()) {
    Json j = std::move(impl_->stash.front());
    impl_->stash.pop_front();
    return j;
  }
  return read_wire(timeout);
}

std::optional<Json> WsClient::read_wire(std::chrono::milliseconds timeout) {
  if (closed_) return std::nullopt;
  auto& im = *impl_;
  // A read that timed out stays pending: the next call waits for the same
  // frame, so a quiet moment does not cost the connection.
  if (!im.reading) {
    im.reading = true;
    im.done = false;
    im.buffer.clear();
    im.ws.async_read(im.buffer, [&im](beast::error_code ec, std::size_t) {
      im.done = true;
      im.result = ec;
    });
  }
  im.ioc.restart();
  im.ioc.run_for(timeout);
  if (!im.done) return std::nullopt;
  im.reading = false;
  if (im.result) {
    closed_ = true;
    close_code_ = im.ws.reason().code;
    return std::nullopt;
  }
  auto text = beast::buffers_to_string(im.buffer.data());
  auto j = Json::parse(text, nullptr, false);
  if (j.is_discarded()) return Json(text);
  return j;
}

std::optional<Json> WsClient::read_until(const std::function<bool(const Json&)>& pred,
                                         std::chrono::milliseconds timeout,
                                         std::vector<Json>* skipped) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return std::nullopt;
    auto f = read(left);
    if (!f) return std::nullopt;
    if (pred(*f)) return f;
    if (skipped) skipped->push_back(*f);
  }
}

int WsClient::wait_closed(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!closed_) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return -1;
    read(left);
  }
  return close_code_;
}

}  // namespace chatd::test
