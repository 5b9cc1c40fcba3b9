#include "chatd/core/rate_limit.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

namespace chatd {

std::optional<Rate> parse_rate(std::string_view text) {
  if (text == "0") return Rate{};
  auto slash = text.find('/');
  if (slash == std::string_view::npos || slash == 0) return std::nullopt;
  Rate r;
  auto count = text.substr(0, slash);
  auto [p, ec] = std::from_chars(count.data(), count.data() + count.size(), r.count);
  if (ec != std::errc() || p != count.data() + count.size() || r.count < 1) return std::nullopt;
  auto unit = text.substr(slash + 1);
  std::int64_t n = 1;
  std::size_t digits = 0;
  while (digits < unit.size() && unit[digits] >= '0' && unit[digits] <= '9') ++digits;
  if (digits > 0) {
    auto [q, ec2] = std::from_chars(unit.data(), unit.data() + digits, n);
    if (ec2 != std::errc() || n < 1) return std::nullopt;
  }
  auto suffix = unit.substr(digits);
  std::int64_t ms = 0;
  if (suffix == "ms") ms = 1;
  else if (suffix == "s") ms = 1000;
  else if (suffix == "m") ms = 60'000;
  else if (suffix == "h") ms = 3'600'000;
  else return std::nullopt;
  if (n > 24 * 3'600'000 / ms) return std::nullopt;  // at most a day
  r.per = std::chrono::milliseconds(n * ms);
  return r;
}

KeyedRateLimiter::KeyedRateLimiter(Rate rate, double burst_factor)
    : rate_(rate),
      per_ms_(rate.off() ? 0.0 : static_cast<double>(rate.count) / static_cast<double>(rate.per.count())),
      burst_(std::max(1.0, std::floor(static_cast<double>(rate.count) * burst_factor))) {}

bool KeyedRateLimiter::try_take(std::int64_t key, std::chrono::milliseconds* wait, Clock::time_point now) {
  if (off()) return true;
  Shard& shard = shards_[static_cast<std::uint64_t>(key) % kShards];
  std::lock_guard lock(shard.mu);
  if (shard.buckets.size() >= kSweepAt) {
    // Forget quiet keys: a full bucket is what a new key gets.
    for (auto it = shard.buckets.begin(); it != shard.buckets.end();) {
      double ms = std::chrono::duration<double, std::milli>(now - it->second.last).count();
      if (it->second.tokens + ms * per_ms_ >= burst_) {
        it = shard.buckets.erase(it);
      } else {
        ++it;
      }
    }
  }
  auto [it, fresh] = shard.buckets.try_emplace(key, Bucket{burst_, now});
  Bucket& b = it->second;
  if (!fresh) {
    double ms = std::chrono::duration<double, std::milli>(now - b.last).count();
    if (ms > 0) {
      b.tokens = std::min(burst_, b.tokens + ms * per_ms_);
      b.last = now;
    }
  }
  if (b.tokens >= 1.0) {
    b.tokens -= 1.0;
    return true;
  }
  if (wait) *wait = std::chrono::milliseconds(static_cast<std::int64_t>(std::ceil((1.0 - b.tokens) / per_ms_)));
  return false;
}

std::size_t KeyedRateLimiter::keys() const {
  std::size_t n = 0;
  for (const auto& s : shards_) {
    std::lock_guard lock(s.mu);
    n += s.buckets.size();
  }
  return n;
}

}  // namespace chatd
