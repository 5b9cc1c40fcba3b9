// A token bucket: `rate` tokens a second, holding at most `burst`. Thread-safe.
// A rate of 0 means no limit.
#pragma once

#include <algorithm>
#include <chrono>
#include <mutex>

namespace chatd {

class TokenBucket {
 public:
  using Clock = std::chrono::steady_clock;

  TokenBucket(double rate, double burst)
      : rate_(rate), burst_(std::max(1.0, burst)), tokens_(std::max(1.0, burst)) {}

  bool unlimited() const { return rate_ <= 0; }

  // Takes one token if there is one. Otherwise returns false and sets `wait`
  // to the time until the next token.
  bool try_take(std::chrono::milliseconds* wait = nullptr, Clock::time_point now = Clock::now()) {
    if (unlimited()) return true;
    std::lock_guard lock(mu_);
    refill(now);
    if (tokens_ >= 1.0) {
      tokens_ -= 1.0;
      return true;
    }
    if (wait) {
      *wait = std::chrono::milliseconds(static_cast<long>((1.0 - tokens_) / rate_ * 1000.0) + 1);
    }
    return false;
  }

 private:
  void refill(Clock::time_point now) {
    if (last_ == Clock::time_point{}) last_ = now;
    double elapsed = std::chrono::duration<double>(now - last_).count();
    if (elapsed > 0) {
      tokens_ = std::min(burst_, tokens_ + elapsed * rate_);
      last_ = now;
    }
  }

  double rate_;
  double burst_;
  std::mutex mu_;
  double tokens_;
  Clock::time_point last_{};
};

}  // namespace chatd
