#include <gtest/gtest.h>

#include "chatd/core/metrics.hpp"

using chatd::Metrics;

TEST(Metrics, CountsRequestsByRouteMethodAndStatus) {
  Metrics m;
  m.observe_request("/healthz", "GET", 200, 0.0002);
  m.observe_request("/healthz", "GET", 200, 0.003);
  auto text = m.render();
  EXPECT_NE(text.find(R"(chatd_http_requests_total{route="/healthz",method="GET",status="200"} 2)"),
            std::string::npos) << text;
  EXPECT_NE(text.find(R"(chatd_http_request_duration_seconds_bucket{route="/healthz",le="0.00025"} 1)"),
            std::string::npos) << text;
}

TEST(Metrics, UnusualMethodsShareOneLabel) {
  Metrics m;
  m.observe_request("rejected", "FROB", 400, 0.001);
  m.observe_request("rejected", "XYZZY", 400, 0.001);
  auto text = m.render();
  EXPECT_NE(text.find(R"(method="other",status="400"} 2)"), std::string::npos) << text;
  EXPECT_EQ(text.find("FROB"), std::string::npos);
}
