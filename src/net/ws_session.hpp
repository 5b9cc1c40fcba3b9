// Private to the network layer: serving GET /v1/ws on an upgraded connection.
#pragma once

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <cstdint>
#include <memory>
#include <string>

#include "connection.hpp"

namespace chatd::net {

bool is_websocket_upgrade(const boost::beast::http::request<boost::beast::http::string_body>& req);

// Takes over an upgraded connection: authenticates (header, or a first
// `auth` frame), then runs the socket until it closes, on the connection's
// executor (IO context `context`), and untracks connection `id` at its end. The caller's coroutine
// may end at once: nothing of the HTTP side stays with an open socket.
void start_websocket(std::shared_ptr<Server::State> st, std::shared_ptr<Connection> conn,
                     boost::beast::http::request<boost::beast::http::string_body> req,
                     std::string remote, std::uint64_t id, std::size_t context);

}  // namespace chatd::net
