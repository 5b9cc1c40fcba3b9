// An HTTP/1.1 client for the push webhook: one POST per call on a new
// connection, bounded by a deadline from the name lookup to the last byte of
// the answer. Used from push worker threads; each call runs its own
// io_context, so it shares nothing with the server's IO threads.
#pragma once

#include <chrono>

#include "chatd/push/endpoint.hpp"
#include "chatd/push/gateway.hpp"

namespace chatd::net {

class WebhookClient final : public push::Gateway {
 public:
  WebhookClient(push::Endpoint endpoint, std::chrono::milliseconds timeout)
      : endpoint_(std::move(endpoint)), timeout_(timeout) {}
  int post(const std::string& json_body, const std::string& idempotency_key) override;

 private:
  push::Endpoint endpoint_;
  std::chrono::milliseconds timeout_;
};

}  // namespace chatd::net
