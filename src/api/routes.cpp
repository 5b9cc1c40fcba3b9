#include "chatd/api/routes.hpp"

#include "chatd/http/errors.hpp"

namespace chatd::api {

namespace {

enum class Access {
  open,     // anyone; the handler gets no caller
  session,  // a live session's bearer token; the handler gets its user, or the client 401
};

template <class H>
using Method = Task<Response> (H::*)(Call);

// The prelude of every route: the caller is authenticated before the handler
// runs. A coroutine without captures (see the g++ 12 traps in
// docs/architecture.md); the lambda below only returns its awaitable.
template <class H>
Task<Response> serve(Access access, domain::AccountService* accounts, H* handler, Method<H> method,
                     http::Request request, http::PathParams path) {
  Call call{std::move(request), std::move(path), {}};
  if (access == Access::session) {
    std::string token = call.request.bearer_token();
    auto caller = co_await accounts->authenticate(std::move(token));
    if (!caller) co_return http::error_response(caller.error());
    call.caller = std::move(*caller);
  }
  co_return co_await (handler->*method)(std::move(call));
}

class Table {
 public:
  Table(http::Dispatcher& dispatcher, domain::AccountService& accounts)
      : dispatcher_(dispatcher), accounts_(&accounts) {}

  template <class H>
  void operator()(const char* method, const char* pattern, Access access, H& handler,
                  Method<H> fn) {
    auto* accounts = accounts_;
    H* h = &handler;
    dispatcher_.route(method, pattern,
                      [access, accounts, h, fn](http::Request r, http::PathParams p) {
                        return serve(access, accounts, h, fn, std::move(r), std::move(p));
                      });
  }
  // A route open to anyone whose handler answers without waiting (no
  // database): no coroutine frame, nothing awaited (see Dispatcher::route_now).
  template <class H>
  void now(const char* method, const char* pattern, H& handler,
           Response (H::*fn)(const http::Request&)) {
    H* h = &handler;
    dispatcher_.route_now(method, pattern, [h, fn](const http::Request& r, const http::PathParams&) {
      return (h->*fn)(r);
    });
  }
  // A route that reads its body as it arrives (uploads): the caller is
  // authenticated before any of the body is read.
  template <class H>
  void streaming(const char* method, const char* path, Access access, H& handler, Method<H> fn) {
    auto* accounts = accounts_;
    H* h = &handler;
    dispatcher_.route_streaming(method, path,
                                [access, accounts, h, fn](http::Request r, http::PathParams p) {
                                  return serve(access, accounts, h, fn, std::move(r), std::move(p));
                                });
  }

 private:
  http::Dispatcher& dispatcher_;
  domain::AccountService* accounts_;
};

}  // namespace

// Read top to bottom; the first match wins, so literal segments come before
// placeholders at the same place (/v1/users/me before /v1/users/{id}). When
// only the method differs, the answer is 405 with Allow. GET /v1/ws is taken
// by the network layer before routing (an upgrade), see src/net/ws_session.cpp.
// Handlers read path parameters by the names written here.
void register_routes(http::Dispatcher& d, const Handlers& h) {
  using enum Access;
  Table route(d, h.accounts);
  route.now("GET", "/healthz",                               h.health, &HealthHandler::healthz);
  route("GET",    "/readyz",                        open,    h.health, &HealthHandler::readyz);
  route.now("GET", "/metrics",                               h.health, &HealthHandler::metrics);

  route("POST",   "/v1/users",                      open,    h.users, &UsersHandler::create);
  route("GET",    "/v1/users",                      session, h.users, &UsersHandler::search);
  route("GET",    "/v1/users/me",                   session, h.users, &UsersHandler::me);
  route("GET",    "/v1/users/me/settings",          session, h.users, &UsersHandler::settings);
  route("PATCH",  "/v1/users/me/settings",          session, h.users, &UsersHandler::update_settings);
  route("GET",    "/v1/users/me/blocks",            session, h.blocks, &BlocksHandler::list);
  route("PUT",    "/v1/users/me/blocks/{user_id}",  session, h.blocks, &BlocksHandler::block);
  route("DELETE", "/v1/users/me/blocks/{user_id}",  session, h.blocks, &BlocksHandler::unblock);
  route("GET",    "/v1/users/{id}",                 session, h.users, &UsersHandler::by_id);

  route("POST",   "/v1/sessions",                   open,    h.sessions, &SessionsHandler::create);
  // Revokes the token it is called with: the handler reads the token itself.
  route("DELETE", "/v1/sessions/current",           open,    h.sessions, &SessionsHandler::remove_current);

  route("POST",   "/v1/conversations",              session, h.conversations, &ConversationsHandler::create);
  route("GET",    "/v1/conversations",              session, h.conversations, &ConversationsHandler::list);
  route("GET",    "/v1/conversations/{id}",         session, h.conversations, &ConversationsHandler::get);
  route("PATCH",  "/v1/conversations/{id}",         session, h.conversations, &ConversationsHandler::update);
  route("POST",   "/v1/conversations/{id}/members", session, h.conversations, &ConversationsHandler::add_member);
  route("DELETE", "/v1/conversations/{id}/members/{user_id}", session, h.conversations, &ConversationsHandler::remove_member);
  route("PATCH",  "/v1/conversations/{id}/members/{user_id}", session, h.conversations, &ConversationsHandler::set_role);
  route("POST",   "/v1/conversations/{id}/read",    session, h.conversations, &ConversationsHandler::read);
  route("POST",   "/v1/conversations/{id}/accept",  session, h.conversations, &ConversationsHandler::accept);
  route("POST",   "/v1/conversations/{id}/decline", session, h.conversations, &ConversationsHandler::decline);
  route("PUT",    "/v1/conversations/{id}/mute",    session, h.conversations, &ConversationsHandler::mute);
  route("DELETE", "/v1/conversations/{id}/mute",    session, h.conversations, &ConversationsHandler::unmute);

  route("POST",   "/v1/conversations/{id}/messages", session, h.messages, &MessagesHandler::send);
  route("GET",    "/v1/conversations/{id}/messages", session, h.messages, &MessagesHandler::history);
  route("PATCH",  "/v1/conversations/{id}/messages/{seq}", session, h.messages, &MessagesHandler::edit);
  route("DELETE", "/v1/conversations/{id}/messages/{seq}", session, h.messages, &MessagesHandler::remove);
  route("PUT",    "/v1/conversations/{id}/messages/{seq}/reactions/{emoji}", session, h.messages, &MessagesHandler::add_reaction);
  route("DELETE", "/v1/conversations/{id}/messages/{seq}/reactions/{emoji}", session, h.messages, &MessagesHandler::remove_reaction);
  route("GET",    "/v1/conversations/{id}/events",  session, h.messages, &MessagesHandler::events);

  route("GET",    "/v1/search/messages",            session, h.search, &SearchHandler::messages);

  route.streaming("POST", "/v1/attachments",        session, h.attachments, &AttachmentsHandler::upload);
  route("GET",    "/v1/attachments/{id}",           session, h.attachments, &AttachmentsHandler::download);
  route("HEAD",   "/v1/attachments/{id}",           session, h.attachments, &AttachmentsHandler::download);
}

}  // namespace chatd::api
