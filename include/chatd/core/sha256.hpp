// Incremental SHA-256, for content addressing of uploads as they stream in.
// Uses the CPU's SHA extensions when it has them (several times faster than
// portable code, which would otherwise bound upload throughput) and
// libsodium's implementation otherwise; both give the same digest.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

namespace chatd {

class Sha256 {
 public:
  Sha256();
  void update(const void* data, std::size_t size);
  // The digest as 64 lower-case hex digits. Call once.
  std::string hex();
  std::array<std::uint8_t, 32> digest();

  // Whether this machine's SHA extensions are used.
  static bool accelerated();

 private:
  void blocks(const std::uint8_t* data, std::size_t count);

  std::uint32_t h_[8];
  std::uint8_t pending_[64];
  std::size_t pending_size_ = 0;
  std::uint64_t total_ = 0;
  bool fast_;
  alignas(16) unsigned char sodium_[128];  // crypto_hash_sha256_state when !fast_
};

}  // namespace chatd
