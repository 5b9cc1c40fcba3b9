#include "chatd/api/routes.hpp"

namespace chatd::api {

namespace {
// A handler method as a dispatcher handler. The lambda is not a coroutine: it
// returns the method's awaitable (see the g++ 12 traps in docs/architecture.md).
template <class H>
http::Handler bind(H& handler, Task<http::Response> (H::*method)(http::Request, http::PathParams)) {
  return [&handler, method](http::Request r, http::PathParams p) {
    return (handler.*method)(std::move(r), std::move(p));
  };
}
}  // namespace

// Read top to bottom; the first match wins, so literal segments come before
// placeholders at the same place (/v1/users/me before /v1/users/{id}). When
// only the method differs, the answer is 405 with Allow. GET /v1/ws is taken
// by the network layer before routing (an upgrade), see src/net/ws_session.cpp.
void register_routes(http::Dispatcher& d, const Handlers& h) {
  d.route("GET",    "/healthz",                         bind(h.health, &HealthHandler::healthz));
  d.route("GET",    "/readyz",                          bind(h.health, &HealthHandler::readyz));
  d.route("GET",    "/metrics",                         bind(h.health, &HealthHandler::metrics));

  d.route("POST",   "/v1/users",                        bind(h.users, &UsersHandler::create));
  d.route("GET",    "/v1/users",                        bind(h.users, &UsersHandler::search));
  d.route("GET",    "/v1/users/me",                     bind(h.users, &UsersHandler::me));
  d.route("GET",    "/v1/users/me/blocks",              bind(h.blocks, &BlocksHandler::list));
  d.route("PUT",    "/v1/users/me/blocks/{user_id}",    bind(h.blocks, &BlocksHandler::block));
  d.route("DELETE", "/v1/users/me/blocks/{user_id}",    bind(h.blocks, &BlocksHandler::unblock));
  d.route("GET",    "/v1/users/{id}",                   bind(h.users, &UsersHandler::by_id));

  d.route("POST",   "/v1/sessions",                     bind(h.sessions, &SessionsHandler::create));
  d.route("DELETE", "/v1/sessions/current",             bind(h.sessions, &SessionsHandler::remove_current));

  d.route("POST",   "/v1/conversations",                bind(h.conversations, &ConversationsHandler::create));
  d.route("GET",    "/v1/conversations",                bind(h.conversations, &ConversationsHandler::list));
  d.route("GET",    "/v1/conversations/{id}",           bind(h.conversations, &ConversationsHandler::get));
  d.route("PATCH",  "/v1/conversations/{id}",           bind(h.conversations, &ConversationsHandler::update));
  d.route("POST",   "/v1/conversations/{id}/members",   bind(h.conversations, &ConversationsHandler::add_member));
  d.route("DELETE", "/v1/conversations/{id}/members/{user_id}", bind(h.conversations, &ConversationsHandler::remove_member));
  d.route("POST",   "/v1/conversations/{id}/read",      bind(h.conversations, &ConversationsHandler::read));

  d.route("POST",   "/v1/conversations/{id}/messages",  bind(h.messages, &MessagesHandler::send));
  d.route("GET",    "/v1/conversations/{id}/messages",  bind(h.messages, &MessagesHandler::history));
  d.route("PATCH",  "/v1/conversations/{id}/messages/{seq}", bind(h.messages, &MessagesHandler::edit));
  d.route("DELETE", "/v1/conversations/{id}/messages/{seq}", bind(h.messages, &MessagesHandler::remove));
  d.route("PUT",    "/v1/conversations/{id}/messages/{seq}/reactions/{emoji}", bind(h.messages, &MessagesHandler::add_reaction));
  d.route("DELETE", "/v1/conversations/{id}/messages/{seq}/reactions/{emoji}", bind(h.messages, &MessagesHandler::remove_reaction));
  d.route("GET",    "/v1/conversations/{id}/events",    bind(h.messages, &MessagesHandler::events));
}

}  // namespace chatd::api
