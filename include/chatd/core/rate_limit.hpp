// Rate limits keyed by an id (a user): `count` per `per`, each key a token
// bucket holding up to `burst` tokens. Thread-safe; memory is bounded by
// forgetting keys whose bucket is full again (they would start full anyway).
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string_view>
#include <unordered_map>

namespace chatd {

// "50/s", "10/15m", "3/500ms"; "0" turns the limit off.
struct Rate {
  std::int64_t count = 0;
  std::chrono::milliseconds per{0};
  bool off() const { return count == 0; }
};
std::optional<Rate> parse_rate(std::string_view text);

class KeyedRateLimiter {
 public:
  using Clock = std::chrono::steady_clock;

  // burst: the tokens a quiet key holds (count * burst_factor, at least 1).
  KeyedRateLimiter(Rate rate, double burst_factor);

  bool off() const { return rate_.off(); }
  // Takes a token of `key`; when there is none, false and `wait` is the time
  // until the next one.
  bool try_take(std::int64_t key, std::chrono::milliseconds* wait, Clock::time_point now = Clock::now());
  std::size_t keys() const;

 private:
  struct Bucket {
    double tokens;
    Clock::time_point last;
  };
  struct Shard {
    mutable std::mutex mu;
    std::unordered_map<std::int64_t, Bucket> buckets;
  };
  static constexpr std::size_t kShards = 16;
  static constexpr std::size_t kSweepAt = 1 << 16;  // keys per shard before full buckets are dropped

  Rate rate_;
  double per_ms_;  // tokens per millisecond
  double burst_;
  Shard shards_[kShards];
};

}  // namespace chatd
