#include <gtest/gtest.h>

#include <random>
#include <string>

#include <sodium.h>

#include "chatd/core/sha256.hpp"
#include "chatd/domain/media_types.hpp"

using namespace chatd;
using namespace chatd::domain;
using namespace std::string_literals;

namespace {
std::string sodium_hex(const std::string& data) {
  unsigned char out[32];
  crypto_hash_sha256(out, reinterpret_cast<const unsigned char*>(data.data()), data.size());
  char hex[65];
  sodium_bin2hex(hex, sizeof hex, out, sizeof out);
  return hex;
}
}  // namespace

TEST(Sha256, KnownVectors) {
  Sha256 empty;
  EXPECT_EQ(empty.hex(), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  Sha256 abc;
  abc.update("abc", 3);
  EXPECT_EQ(abc.hex(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  Sha256 two;
  std::string m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  two.update(m.data(), m.size());
  EXPECT_EQ(two.hex(), "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(Sha256, MatchesLibsodiumAtEveryLengthAndSplit) {
  ASSERT_GE(sodium_init(), 0);
  std::mt19937 rng(7);
  std::string data(5000, '\0');
  for (auto& c : data) c = static_cast<char>(rng());
  // Every length around the padding boundaries, and random splits of each.
  for (std::size_t len : {0u, 1u, 55u, 56u, 57u, 63u, 64u, 65u, 119u, 120u, 127u, 128u, 129u,
                          1000u, 4096u, 5000u}) {
    std::string part = data.substr(0, len);
    Sha256 whole;
    whole.update(part.data(), part.size());
    EXPECT_EQ(whole.hex(), sodium_hex(part)) << "length " << len;
    Sha256 pieces;
    std::size_t at = 0;
    while (at < len) {
      std::size_t n = std::min<std::size_t>(len - at, rng() % 150);
      pieces.update(part.data() + at, n);
      at += n;
    }
    EXPECT_EQ(pieces.hex(), sodium_hex(part)) << "length " << len << " in pieces";
  }
}

TEST(MediaTypes, AcceptsTheContractsTypesOnly) {
  EXPECT_EQ(accepted_media_type("image/jpeg"), "image/jpeg");
  EXPECT_EQ(accepted_media_type("Image/PNG; charset=binary"), "image/png");
  EXPECT_EQ(accepted_media_type(" audio/ogg "), "audio/ogg");
  for (auto t : {"image/jpeg", "image/png", "image/gif", "image/webp", "video/mp4", "audio/mp4",
                 "audio/mpeg", "audio/ogg"}) {
    EXPECT_TRUE(accepted_media_type(t)) << t;
  }
  for (auto t : {"text/html", "image/svg+xml", "application/javascript", "application/pdf",
                 "image/jpeg2", "", "image/", "text/plain"}) {
    EXPECT_FALSE(accepted_media_type(t)) << t;
  }
}

TEST(MediaTypes, LeadingBytesMustMatchTheDeclaredType) {
  std::string jpeg = "\xFF\xD8\xFF\xE0\x00\x10JFIF\x00\x01"s;
  std::string png = "\x89PNG\r\n\x1A\n\x00\x00\x00\x0D"s;
  std::string gif = "GIF89a\x01\x00\x01\x00\x80\x00"s;
  std::string webp = "RIFF\x24\x00\x00\x00WEBPVP8 "s;
  std::string mp4 = "\x00\x00\x00\x20" "ftypisom\x00\x00"s;
  std::string m4a = "\x00\x00\x00\x1C" "ftypM4A \x00\x00"s;
  std::string mp3 = "ID3\x04\x00\x00\x00\x00\x00\x00\x00\x00"s;
  std::string mp3_frame = "\xFF\xFB\x90\x64\x00\x00\x00\x00\x00\x00\x00\x00"s;
  std::string ogg = "OggS\x00\x02\x00\x00\x00\x00\x00\x00"s;
  std::string html = "<!DOCTYPE html><script>"s;
  EXPECT_TRUE(bytes_match("image/jpeg", jpeg));
  EXPECT_TRUE(bytes_match("image/png", png));
  EXPECT_TRUE(bytes_match("image/gif", gif));
  EXPECT_TRUE(bytes_match("image/webp", webp));
  EXPECT_TRUE(bytes_match("video/mp4", mp4));
  EXPECT_TRUE(bytes_match("audio/mp4", m4a));
  EXPECT_TRUE(bytes_match("audio/mpeg", mp3));
  EXPECT_TRUE(bytes_match("audio/mpeg", mp3_frame));
  EXPECT_TRUE(bytes_match("audio/ogg", ogg));
  // Lies: another type's bytes, HTML, a truncated signature.
  EXPECT_FALSE(bytes_match("image/jpeg", png));
  EXPECT_FALSE(bytes_match("image/png", html));
  EXPECT_FALSE(bytes_match("image/gif", "GIF8"));
  EXPECT_FALSE(bytes_match("image/webp", "RIFF\x24\x00\x00\x00WAVE"s));
  EXPECT_FALSE(bytes_match("video/mp4", jpeg));
  EXPECT_FALSE(bytes_match("audio/mpeg", html));
  EXPECT_FALSE(bytes_match("audio/mpeg", "\xFF\xE1"s));  // reserved layer
  EXPECT_FALSE(bytes_match("audio/ogg", ""));
  EXPECT_FALSE(bytes_match("text/html", html));
}

#include "chatd/http/ranges.hpp"

using chatd::http::byte_range;
using chatd::http::none_match;
using chatd::http::RangeOutcome;

TEST(Ranges, IfNoneMatch) {
  const char* tag = "\"abc\"";
  EXPECT_TRUE(none_match("\"abc\"", tag));
  EXPECT_TRUE(none_match("*", tag));
  EXPECT_TRUE(none_match("\"x\", W/\"abc\"", tag));
  EXPECT_FALSE(none_match("\"abd\"", tag));
  EXPECT_FALSE(none_match("", tag));
  EXPECT_FALSE(none_match("abc", tag));
}

TEST(Ranges, SingleByteRanges) {
  auto r = byte_range("bytes=0-99", 1000);
  EXPECT_EQ(r.outcome, RangeOutcome::partial);
  EXPECT_EQ(r.range.first, 0u);
  EXPECT_EQ(r.range.length, 100u);
  r = byte_range("bytes=900-", 1000);
  EXPECT_EQ(r.range.first, 900u);
  EXPECT_EQ(r.range.length, 100u);
  r = byte_range("bytes=-10", 1000);
  EXPECT_EQ(r.range.first, 990u);
  EXPECT_EQ(r.range.length, 10u);
  r = byte_range("bytes=-5000", 1000);  // more than there is: all of it
  EXPECT_EQ(r.range.first, 0u);
  EXPECT_EQ(r.range.length, 1000u);
  r = byte_range("bytes=500-99999", 1000);  // clipped to the end
  EXPECT_EQ(r.range.length, 500u);
  EXPECT_EQ(byte_range("bytes=1000-", 1000).outcome, RangeOutcome::unsatisfiable);
  EXPECT_EQ(byte_range("bytes=-0", 1000).outcome, RangeOutcome::unsatisfiable);
  // Not served as ranges: the whole file.
  EXPECT_EQ(byte_range("bytes=0-1,5-6", 1000).outcome, RangeOutcome::whole);
  EXPECT_EQ(byte_range("items=0-1", 1000).outcome, RangeOutcome::whole);
  EXPECT_EQ(byte_range("bytes=5-1", 1000).outcome, RangeOutcome::whole);
  EXPECT_EQ(byte_range("bytes=x-1", 1000).outcome, RangeOutcome::whole);
  EXPECT_EQ(byte_range("bytes=99999999999999999999-", 1000).outcome, RangeOutcome::whole);
}
