// Private to the network layer: serving GET /v1/ws on an upgraded connection.
#pragma once

#include <utility>

#include <boost/asio/awaitable.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <memory>
#include <string>

#include "connection.hpp"

namespace chatd::net {

bool is_websocket_upgrade(const boost::beast::http::request<boost::beast::http::string_body>& req);

// Authenticates (header, or a first `auth` frame), then runs the socket until
// it closes.
boost::asio::awaitable<void> run_websocket(
    std::shared_ptr<Server::State> st, std::shared_ptr<Connection> conn,
    boost::beast::http::request<boost::beast::http::string_body> req, std::string remote);

}  // namespace chatd::net
