// Private to the network layer (and its fuzz target): turning bytes into a
// chatd request and a response into bytes, with the server's limits.
#pragma once

#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include <string>

#include "chatd/core/expected.hpp"
#include "chatd/http/message.hpp"
#include "chatd/net/server.hpp"

namespace chatd::net {

using RequestParser = boost::beast::http::request_parser<boost::beast::http::string_body>;

// The server's limits on a fresh parser.
void configure(RequestParser& parser, const ServerOptions& options);
// A fresh parser that stops after the header (the route decides how the body
// is read) ...
void configure_header_first(RequestParser& parser, const ServerOptions& options);
// ... and, for a body read whole, the server's body limit and the rest of the
// parse: body_limit when the declared length is over it.
boost::beast::error_code continue_whole(RequestParser& parser, const ServerOptions& options);
// What a request the parser refused is answered (400, or 413 over a limit).
Error refusal_for(const boost::beast::error_code& ec, const ServerOptions& options);
// The header of a request whose body is streamed (no body in the result).
http::Request to_request_header(const boost::beast::http::request_header<>& in,
                                const std::string& remote);
http::Request to_request(boost::beast::http::request<boost::beast::http::string_body>&& in,
                         const std::string& remote);
// The bytes of an HTTP/1.x response (status line, headers, body) in one
// buffer; for `head`, without the body (its Content-Length kept). A file
// body is not included: the caller sends it after.
std::string to_wire(const http::Response& response, unsigned version, bool keep_alive,
                    bool head = false);

}  // namespace chatd::net
