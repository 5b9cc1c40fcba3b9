#include "chatd/net/webhook_client.hpp"

#include <utility>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace chatd::net {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = boost::asio::ip::tcp;

namespace {
// One POST: resolve, connect, write, read. Each step starts the next from its
// completion; any error leaves `status` at 0.
struct Exchange {
  Exchange(boost::asio::io_context& ioc, const push::Endpoint& e) : resolver(ioc), stream(ioc), endpoint(e) {}

  void start() {
    resolver.async_resolve(endpoint.host, std::to_string(endpoint.port),
                           [this](beast::error_code ec, tcp::resolver::results_type results) {
                             if (!ec) connect(results);
                           });
  }
  void connect(const tcp::resolver::results_type& results) {
    stream.async_connect(results, [this](beast::error_code ec, const tcp::endpoint&) {
      if (ec) return;
      http::async_write(stream, request, [this](beast::error_code ec2, std::size_t) {
        if (ec2) return;
        http::async_read(stream, buffer, response, [this](beast::error_code ec3, std::size_t) {
          if (!ec3) status = static_cast<int>(response.result_int());
          beast::error_code ignored;
          stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
        });
      });
    });
  }

  tcp::resolver resolver;
  beast::tcp_stream stream;
  const push::Endpoint& endpoint;
  http::request<http::string_body> request;
  beast::flat_buffer buffer;
  http::response<http::string_body> response;
  int status = 0;
};
}  // namespace

int WebhookClient::post(const std::string& json_body, const std::string& idempotency_key) {
  boost::asio::io_context ioc(1);
  Exchange x(ioc, endpoint_);
  x.request = {http::verb::post, endpoint_.target, 11};
  bool v6 = endpoint_.host.find(':') != std::string::npos;  // an IPv6 literal goes in brackets
  x.request.set(http::field::host, (v6 ? "[" + endpoint_.host + "]" : endpoint_.host) + ":" +
                                       std::to_string(endpoint_.port));
  x.request.set(http::field::user_agent, "chatd-push");
  x.request.set(http::field::content_type, "application/json");
  x.request.set(http::field::connection, "close");
  x.request.set("Idempotency-Key", idempotency_key);
  x.request.body() = json_body;
  x.request.prepare_payload();
  // The deadline covers connect, write and read; run_for bounds the lookup too.
  x.stream.expires_after(timeout_);
  x.start();
  ioc.run_for(timeout_);
  if (!ioc.stopped()) {
    // Still going at the deadline: cancel and let the handlers unwind.
    beast::error_code ignored;
    x.resolver.cancel();
    x.stream.socket().close(ignored);
    ioc.restart();
    ioc.run();
  }
  return x.status;
}

}  // namespace chatd::net
