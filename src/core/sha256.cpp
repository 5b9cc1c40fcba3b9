#include "chatd/core/sha256.hpp"

#include <cstring>

#include <sodium.h>

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>
#define CHATD_SHA_NI 1
#endif

namespace chatd {

static_assert(sizeof(crypto_hash_sha256_state) <= 128, "libsodium's state fits");

namespace {

constexpr std::uint32_t kInit[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                    0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};

#ifdef CHATD_SHA_NI
alignas(16) constexpr std::uint32_t kRound[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
    0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
    0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
    0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
    0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
    0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
    0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
    0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
    0xc67178f2};

bool cpu_has_sha() {
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return false;
  bool ssse3 = c & (1u << 9), sse41 = c & (1u << 19);
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return false;
  return ssse3 && sse41 && (b & (1u << 29));
}

// SHA-256 compression of `count` 64-byte blocks with the SHA extensions.
// The instructions keep the eight working variables as two vectors, ABEF
// and CDGH; each SHA256RNDS2 does two rounds, so four rounds take two calls
// with the two halves of W+K. The schedule for rounds 16..63 comes from
// SHA256MSG1 (W[t-16] + sigma0(W[t-15])), the W[t-7] term, and SHA256MSG2
// (the sigma1 terms).
__attribute__((target("sha,sse4.1,ssse3"))) void compress_ni(std::uint32_t h[8],
                                                             const std::uint8_t* data,
                                                             std::size_t count) {
  const __m128i byteswap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
  __m128i t = _mm_loadu_si128(reinterpret_cast<const __m128i*>(h));        // A B C D
  __m128i s1 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(h + 4));   // E F G H
  t = _mm_shuffle_epi32(t, 0xB1);                                          // B A D C
  s1 = _mm_shuffle_epi32(s1, 0x1B);                                        // H G F E
  __m128i s0 = _mm_alignr_epi8(t, s1, 8);                                  // ABEF
  s1 = _mm_blend_epi16(s1, t, 0xF0);                                       // CDGH
  const __m128i* k = reinterpret_cast<const __m128i*>(kRound);
  __m128i msg;
  // Four rounds with message words m (W+K, low half then high half).
#define CHATD_ROUNDS4(m, i)                      \
  msg = _mm_add_epi32(m, _mm_load_si128(k + i)); \
  s1 = _mm_sha256rnds2_epu32(s1, s0, msg);       \
  msg = _mm_shuffle_epi32(msg, 0x0E);            \
  s0 = _mm_sha256rnds2_epu32(s0, s1, msg);
  // The next four words into a, from the last sixteen (a oldest, d newest).
#define CHATD_SCHEDULE(a, b, c, d)                     \
  a = _mm_sha256msg1_epu32(a, b);                      \
  a = _mm_add_epi32(a, _mm_alignr_epi8(d, c, 4));      \
  a = _mm_sha256msg2_epu32(a, d);
  for (; count > 0; --count, data += 64) {
    __m128i save0 = s0, save1 = s1;
    __m128i m0 = _mm_shuffle_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(data)), byteswap);
    __m128i m1 = _mm_shuffle_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(data + 16)), byteswap);
    __m128i m2 = _mm_shuffle_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(data + 32)), byteswap);
    __m128i m3 = _mm_shuffle_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(data + 48)), byteswap);
    CHATD_ROUNDS4(m0, 0)
    CHATD_ROUNDS4(m1, 1)
    CHATD_ROUNDS4(m2, 2)
    CHATD_ROUNDS4(m3, 3)
    CHATD_SCHEDULE(m0, m1, m2, m3) CHATD_ROUNDS4(m0, 4)
    CHATD_SCHEDULE(m1, m2, m3, m0) CHATD_ROUNDS4(m1, 5)
    CHATD_SCHEDULE(m2, m3, m0, m1) CHATD_ROUNDS4(m2, 6)
    CHATD_SCHEDULE(m3, m0, m1, m2) CHATD_ROUNDS4(m3, 7)
    CHATD_SCHEDULE(m0, m1, m2, m3) CHATD_ROUNDS4(m0, 8)
    CHATD_SCHEDULE(m1, m2, m3, m0) CHATD_ROUNDS4(m1, 9)
    CHATD_SCHEDULE(m2, m3, m0, m1) CHATD_ROUNDS4(m2, 10)
    CHATD_SCHEDULE(m3, m0, m1, m2) CHATD_ROUNDS4(m3, 11)
    CHATD_SCHEDULE(m0, m1, m2, m3) CHATD_ROUNDS4(m0, 12)
    CHATD_SCHEDULE(m1, m2, m3, m0) CHATD_ROUNDS4(m1, 13)
    CHATD_SCHEDULE(m2, m3, m0, m1) CHATD_ROUNDS4(m2, 14)
    CHATD_SCHEDULE(m3, m0, m1, m2) CHATD_ROUNDS4(m3, 15)
    s0 = _mm_add_epi32(s0, save0);
    s1 = _mm_add_epi32(s1, save1);
  }
#undef CHATD_ROUNDS4
#undef CHATD_SCHEDULE
  t = _mm_shuffle_epi32(s0, 0x1B);         // A B E F
  s1 = _mm_shuffle_epi32(s1, 0xB1);        // G H C D
  s0 = _mm_blend_epi16(t, s1, 0xF0);       // A B C D
  s1 = _mm_alignr_epi8(s1, t, 8);          // E F G H
  _mm_storeu_si128(reinterpret_cast<__m128i*>(h), s0);
  _mm_storeu_si128(reinterpret_cast<__m128i*>(h + 4), s1);
}

const bool kHasSha = cpu_has_sha();
#else
const bool kHasSha = false;
#endif

crypto_hash_sha256_state* sodium_state(unsigned char* raw) {
  return reinterpret_cast<crypto_hash_sha256_state*>(raw);
}

}  // namespace

bool Sha256::accelerated() { return kHasSha; }

Sha256::Sha256() : fast_(kHasSha) {
  std::memcpy(h_, kInit, sizeof h_);
  if (!fast_) crypto_hash_sha256_init(sodium_state(sodium_));
}

void Sha256::blocks(const std::uint8_t* data, std::size_t count) {
#ifdef CHATD_SHA_NI
  compress_ni(h_, data, count);
#else
  (void)data;
  (void)count;
#endif
}

void Sha256::update(const void* data, std::size_t size) {
  if (!fast_) {
    crypto_hash_sha256_update(sodium_state(sodium_), static_cast<const unsigned char*>(data), size);
    return;
  }
  auto p = static_cast<const std::uint8_t*>(data);
  total_ += size;
  if (pending_size_ > 0) {
    std::size_t take = std::min(size, 64 - pending_size_);
    std::memcpy(pending_ + pending_size_, p, take);
    pending_size_ += take;
    p += take;
    size -= take;
    if (pending_size_ < 64) return;
    blocks(pending_, 1);
    pending_size_ = 0;
  }
  if (size >= 64) {
    blocks(p, size / 64);
    p += size / 64 * 64;
    size %= 64;
  }
  std::memcpy(pending_, p, size);
  pending_size_ = size;
}

std::array<std::uint8_t, 32> Sha256::digest() {
  std::array<std::uint8_t, 32> out{};
  if (!fast_) {
    crypto_hash_sha256_final(sodium_state(sodium_), out.data());
    return out;
  }
  // Padding: 0x80, zeros to 56 mod 64, then the length in bits, big-endian.
  std::uint64_t bits = total_ * 8;
  std::uint8_t tail[128] = {};
  std::memcpy(tail, pending_, pending_size_);
  tail[pending_size_] = 0x80;
  std::size_t len = pending_size_ + 1 <= 56 ? 64 : 128;
  for (int i = 0; i < 8; ++i) tail[len - 1 - i] = static_cast<std::uint8_t>(bits >> (8 * i));
  blocks(tail, len / 64);
  for (int i = 0; i < 8; ++i) {
    out[4 * i] = static_cast<std::uint8_t>(h_[i] >> 24);
    out[4 * i + 1] = static_cast<std::uint8_t>(h_[i] >> 16);
    out[4 * i + 2] = static_cast<std::uint8_t>(h_[i] >> 8);
    out[4 * i + 3] = static_cast<std::uint8_t>(h_[i]);
  }
  return out;
}

std::string Sha256::hex() {
  static const char* digits = "0123456789abcdef";
  auto d = digest();
  std::string out(64, '0');
  for (std::size_t i = 0; i < d.size(); ++i) {
    out[2 * i] = digits[d[i] >> 4];
    out[2 * i + 1] = digits[d[i] & 15];
  }
  return out;
}

}  // namespace chatd
