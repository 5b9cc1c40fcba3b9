// The dispatcher's two kinds of route: one whose handler answers at once
// (no coroutine, the answer is ready when dispatch returns) and one whose
// handler is awaited. Both get the same request id, error mapping, metrics.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <optional>
#include <stdexcept>
#include <variant>

#include "chatd/http/dispatcher.hpp"

using namespace chatd;
using chatd::http::Dispatched;
using chatd::http::Request;
using chatd::http::Response;

namespace {

Request get(std::string target) {
  Request r;
  r.method = "GET";
  r.target = std::move(target);
  return r;
}

std::optional<std::string> header(const Response& r, const std::string& name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return std::nullopt;
}

Response await(Dispatched d) {
  if (auto* ready = std::get_if<Response>(&d)) return std::move(*ready);
  boost::asio::io_context io;
  std::optional<Response> out;
  boost::asio::co_spawn(io, std::move(std::get<Task<Response>>(d)),
                        [&out](std::exception_ptr e, Response r) {
                          if (!e) out = std::move(r);
                        });
  io.run();
  if (!out) throw std::runtime_error("the dispatcher's task failed");
  return std::move(*out);
}

Task<Response> answer_later(Request, http::PathParams p) {
  Response r;
  r.body = "later " + p["id"];
  co_return r;
}

}  // namespace

TEST(Dispatcher, AnImmediateRouteIsAnsweredBeforeDispatchReturns) {
  Metrics metrics;
  http::Dispatcher d(metrics);
  int calls = 0;
  d.route_now("GET", "/now/{id}", [&calls](const Request& req, const http::PathParams& p) {
    ++calls;
    Response r;
    r.body = "now " + p["id"] + " " + req.path;
    return r;
  });
  auto out = d.dispatch(get("/now/7?x=1"));
  ASSERT_TRUE(std::holds_alternative<Response>(out));
  EXPECT_EQ(calls, 1);
  const auto& r = std::get<Response>(out);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "now 7 /now/7");
  EXPECT_TRUE(header(r, "X-Request-Id"));
  EXPECT_NE(metrics.render().find(R"(route="/now/{id}",method="GET",status="200"} 1)"),
            std::string::npos);
}

TEST(Dispatcher, AnImmediateHandlerThatThrowsIsA500InTheContractShape) {
  Metrics metrics;
  http::Dispatcher d(metrics);
  d.route_now("GET", "/boom", [](const Request&, const http::PathParams&) -> Response {
    throw std::runtime_error("secret detail");
  });
  auto req = get("/boom");
  req.headers.emplace_back("x-request-id", "trace-1");
  auto r = await(d.dispatch(std::move(req)));
  EXPECT_EQ(r.status, 500);
  EXPECT_NE(r.body.find(R"("error")"), std::string::npos) << r.body;
  EXPECT_EQ(r.body.find("secret detail"), std::string::npos) << r.body;
  EXPECT_EQ(header(r, "X-Request-Id"), "trace-1");
  EXPECT_NE(metrics.render().find(R"(route="/boom",method="GET",status="500"} 1)"),
            std::string::npos);
}

TEST(Dispatcher, AWaitingRouteIsAnsweredWhenItsTaskIsAwaitedAndCountedOnce) {
  Metrics metrics;
  http::Dispatcher d(metrics);
  d.route("GET", "/later/{id}", answer_later);
  auto req = get("/later/9");
  req.headers.emplace_back("x-request-id", "trace-2");
  auto out = d.dispatch(std::move(req));
  ASSERT_TRUE(std::holds_alternative<Task<Response>>(out));
  // Nothing is counted before the handler has answered.
  EXPECT_EQ(metrics.render().find(R"(route="/later/{id}")"), std::string::npos);
  auto r = await(std::move(out));
  EXPECT_EQ(r.body, "later 9");
  EXPECT_EQ(header(r, "X-Request-Id"), "trace-2");
  EXPECT_NE(metrics.render().find(R"(route="/later/{id}",method="GET",status="200"} 1)"),
            std::string::npos);
}

TEST(Dispatcher, RequestsNoHandlerTakesAreAnsweredAtOnce) {
  Metrics metrics;
  http::Dispatcher d(metrics);
  d.route("GET", "/later/{id}", answer_later);
  auto missing = d.dispatch(get("/nowhere"));
  ASSERT_TRUE(std::holds_alternative<Response>(missing));
  EXPECT_EQ(std::get<Response>(missing).status, 404);
  auto req = get("/later/1");
  req.method = "DELETE";
  auto wrong = d.dispatch(std::move(req));
  ASSERT_TRUE(std::holds_alternative<Response>(wrong));
  EXPECT_EQ(std::get<Response>(wrong).status, 405);
  EXPECT_EQ(header(std::get<Response>(wrong), "Allow"), "GET");
}
