#include <gtest/gtest.h>

#include <set>

#include "chatd/domain/password_hasher.hpp"
#include "chatd/domain/session_tokens.hpp"

using namespace chatd::domain;

namespace {
// The cheapest argon2id cost libsodium accepts keeps the unit tests fast; the
// integration tests exercise the production default.
PasswordHasher cheap() { return PasswordHasher({1, 8}); }
}  // namespace

TEST(PasswordHasher, ProducesArgon2idHashThatVerifies) {
  auto h = cheap();
  auto stored = h.hash("correct horse");
  EXPECT_EQ(stored.rfind("$argon2id$", 0), 0u) << stored;
  EXPECT_TRUE(h.verify(stored, "correct horse"));
  EXPECT_FALSE(h.verify(stored, "correct horsE"));
  EXPECT_FALSE(h.verify(stored, ""));
}

TEST(PasswordHasher, SaltsEveryHash) {
  auto h = cheap();
  EXPECT_NE(h.hash("same password"), h.hash("same password"));
}

TEST(PasswordHasher, GarbageStoredHashDoesNotVerify) {
  auto h = cheap();
  EXPECT_FALSE(h.verify("not a hash", "whatever1"));
}

TEST(SessionTokens, AreUnique43CharBase64Url) {
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) {
    auto t = issue_token();
    EXPECT_EQ(t.token.size(), 43u);
    EXPECT_TRUE(looks_like_token(t.token));
    EXPECT_TRUE(seen.insert(t.token).second);
  }
}

TEST(SessionTokens, StoredHashIsSha256HexAndNotTheToken) {
  auto t = issue_token();
  EXPECT_EQ(t.hash.size(), 64u);
  EXPECT_EQ(t.hash, hash_token(t.token));
  EXPECT_EQ(t.hash.find(t.token), std::string::npos);
  EXPECT_NE(hash_token(t.token), hash_token(t.token + "x"));
  // Known answer: SHA-256("abc").
  EXPECT_EQ(hash_token("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(SessionTokens, ShapeCheckRejectsGarbage) {
  EXPECT_FALSE(looks_like_token(""));
  EXPECT_FALSE(looks_like_token("short"));
  EXPECT_FALSE(looks_like_token(std::string(43, '!')));
  EXPECT_FALSE(looks_like_token(std::string(44, 'a')));
  EXPECT_TRUE(looks_like_token(std::string(43, 'a')));
}
