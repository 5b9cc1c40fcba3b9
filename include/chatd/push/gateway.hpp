// Where the push worker hands a notification: the deployment's APNs/FCM
// gateway behind --push-webhook. An interface, so the worker's rules can be
// tested without a socket.
#pragma once

#include <string>

namespace chatd::push {

class Gateway {
 public:
  virtual ~Gateway() = default;
  // POSTs a JSON body; the HTTP status, or 0 when no answer came (refused,
  // reset, timed out). Blocks the calling (worker) thread, never an IO thread.
  virtual int post(const std::string& json_body, const std::string& idempotency_key) = 0;
};

}  // namespace chatd::push
