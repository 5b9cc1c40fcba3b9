// One HTTP request through the server's own parse path (Beast's parser with
// the server's limits, the same refusal mapping and conversion) and then the
// real dispatcher and route table, with handlers whose services sit on a
// database that cannot be reached: every answer must be a well-formed
// response in the error shape (or a success), never a crash.
// Asio 1.18 needs std::exchange before awaitable.hpp is parsed.
#include <utility>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/beast/http.hpp>

#include <cstdint>
#include <cstdlib>
#include <string>

#include <nlohmann/json.hpp>

#include "fuzz_app.hpp"
#include "net/http_parse.hpp"

namespace bhttp = boost::beast::http;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static chatd::fuzz::App app;
  chatd::net::ServerOptions opt;
  opt.header_limit = 4096;
  opt.body_limit = 8192;
  bhttp::request_parser<bhttp::string_body> parser;
  chatd::net::configure(parser, opt);
  boost::beast::error_code ec;
  parser.put(boost::asio::buffer(data, size), ec);
  if (!ec && !parser.is_done()) parser.put_eof(ec);
  chatd::http::Response response;
  if (ec && ec != bhttp::error::need_more) {
    auto refusal = chatd::net::refusal_for(ec, opt);
    chatd::http::Request partial;
    if (parser.is_header_done()) partial = chatd::net::to_request(parser.release(), "fuzz");
    response = app.dispatcher.reject(partial, refusal);
  } else if (parser.is_done()) {
    response = app.run(chatd::net::to_request(parser.release(), "fuzz"));
  } else {
    return 0;
  }
  if (response.status < 100 || response.status > 599) std::abort();
  if (response.status >= 400) {
    auto j = nlohmann::json::parse(response.body, nullptr, false);
    if (!j.is_object() || !j.contains("error") || !j["error"].contains("code")) std::abort();
  }
  (void)chatd::net::to_wire(response, 11, true);
  return 0;
}
