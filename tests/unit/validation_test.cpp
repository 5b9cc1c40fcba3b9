#include <gtest/gtest.h>

#include "chatd/core/time.hpp"
#include "chatd/domain/validation.hpp"

using namespace chatd::domain;

TEST(Utf8, CountsScalarValuesNotBytes) {
  EXPECT_EQ(utf8_length("abc"), 3u);
  EXPECT_EQ(utf8_length("h\xC3\xA9llo"), 5u);               // é
  EXPECT_EQ(utf8_length("\xE2\x82\xAC"), 1u);               // €
  EXPECT_EQ(utf8_length("\xF0\x9F\x98\x80"), 1u);           // 😀
  EXPECT_EQ(utf8_length(""), 0u);
}

TEST(Utf8, RejectsInvalidSequences) {
  EXPECT_FALSE(utf8_length("\xFF"));
  EXPECT_FALSE(utf8_length("\xC3"));                 // truncated
  EXPECT_FALSE(utf8_length("\xC0\xAF"));             // overlong '/'
  EXPECT_FALSE(utf8_length("\xED\xA0\x80"));         // surrogate U+D800
  EXPECT_FALSE(utf8_length("\xF4\x90\x80\x80"));     // past U+10FFFF
  EXPECT_FALSE(utf8_length("a\x80z"));               // stray continuation
}

TEST(Username, FollowsContractCharsetAndLength) {
  EXPECT_EQ(username_problem("alice"), "");
  EXPECT_EQ(username_problem("a.b_c9"), "");
  EXPECT_EQ(username_problem(std::string(32, 'a')), "");
  EXPECT_NE(username_problem("ab"), "");
  EXPECT_NE(username_problem(std::string(33, 'a')), "");
  EXPECT_NE(username_problem("Alice"), "");
  EXPECT_NE(username_problem("al ice"), "");
  EXPECT_NE(username_problem("al-ice"), "");
  EXPECT_NE(username_problem("h\xC3\xA9llo"), "");
}

TEST(Password, IsEightTo256Bytes) {
  EXPECT_NE(password_problem("1234567"), "");
  EXPECT_EQ(password_problem("12345678"), "");
  EXPECT_EQ(password_problem(std::string(256, 'x')), "");
  EXPECT_NE(password_problem(std::string(257, 'x')), "");
}

TEST(DisplayName, AllowsUnicodeButNotControlCharacters) {
  EXPECT_EQ(display_name_problem("Zoë 😀"), "");
  EXPECT_NE(display_name_problem(""), "");
  EXPECT_NE(display_name_problem(std::string(65, 'x')), "");
  EXPECT_EQ(display_name_problem(std::string(64, 'x')), "");
  EXPECT_NE(display_name_problem("a\nb"), "");
  EXPECT_NE(display_name_problem("a\xC2\x85" "b"), "");  // U+0085, a C1 control
  EXPECT_EQ(display_name_problem("\xC2\xA9"), "");        // ©
  EXPECT_NE(display_name_problem("\xFF"), "");
}

TEST(MessageRules, BodyEmojiClientIdAndTitle) {
  EXPECT_EQ(message_body_problem("hi\nthere"), "");
  EXPECT_NE(message_body_problem(""), "");
  EXPECT_NE(message_body_problem(std::string("a\0b", 3)), "");
  EXPECT_NE(message_body_problem("\xC3\x28"), "");
  EXPECT_EQ(message_body_problem(std::string(4000, 'x')), "");
  EXPECT_NE(message_body_problem(std::string(4001, 'x')), "");
  EXPECT_EQ(emoji_problem("\xF0\x9F\x91\x8D"), "");
  EXPECT_NE(emoji_problem(""), "");
  EXPECT_NE(emoji_problem(std::string(65, 'x')), "");
  EXPECT_NE(emoji_problem("a b"), "");
  EXPECT_EQ(client_msg_id_problem("abc-123"), "");
  EXPECT_NE(client_msg_id_problem("has space"), "");
  EXPECT_NE(client_msg_id_problem(std::string(65, 'c')), "");
  EXPECT_EQ(title_problem(std::string(100, 't')), "");
  EXPECT_NE(title_problem(std::string(101, 't')), "");
  EXPECT_NE(title_problem("tab\there"), "");
}

TEST(Limit, DefaultsAndBounds) {
  EXPECT_EQ(*parse_limit(std::nullopt), 50);
  EXPECT_EQ(*parse_limit(std::string("1")), 1);
  EXPECT_EQ(*parse_limit(std::string("200")), 200);
  EXPECT_FALSE(parse_limit(std::string("0")).ok());
  EXPECT_FALSE(parse_limit(std::string("201")).ok());
  EXPECT_FALSE(parse_limit(std::string("10000")).ok());
  EXPECT_FALSE(parse_limit(std::string("-1")).ok());
  EXPECT_FALSE(parse_limit(std::string("abc")).ok());
  EXPECT_FALSE(parse_limit(std::string("")).ok());
  auto e = parse_limit(std::string("0"));
  EXPECT_NE(e.error().message.find("limit"), std::string::npos);
}

TEST(Ids, PositiveIntegersOnly) {
  EXPECT_EQ(*parse_id("42", "user id"), 42);
  EXPECT_EQ(*parse_id("9223372036854775807", "id"), INT64_MAX);
  EXPECT_FALSE(parse_id("0", "id").ok());
  EXPECT_FALSE(parse_id("-3", "id").ok());
  EXPECT_FALSE(parse_id("abc", "id").ok());
  EXPECT_FALSE(parse_id("12a", "id").ok());
  EXPECT_FALSE(parse_id("9223372036854775808", "id").ok());
  EXPECT_FALSE(parse_id("", "id").ok());
  EXPECT_NE(parse_id("x", "user id").error().message.find("user id"), std::string::npos);
}

TEST(Time, FormatsRfc3339WithMillisecondsInUtc) {
  EXPECT_EQ(chatd::format_rfc3339_ms(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(chatd::format_rfc3339_ms(1795600800123), "2026-11-25T10:00:00.123Z");
}

TEST(Validation, TimestampsAreRfc3339OnARealCalendarDay) {
  using chatd::domain::timestamp_problem;
  for (const char* ok : {"2026-12-24T18:00:00Z", "2026-12-24T18:00:00.123Z", "2024-02-29T00:00:00+05:30",
                         "1970-01-01T00:00:00-00:00", "9999-12-31T23:59:59.999999999Z"}) {
    EXPECT_EQ(timestamp_problem(ok), "") << ok;
  }
  for (const char* bad : {"", "tomorrow", "2026-12-24", "2026-12-24T18:00:00", "2026-12-24 18:00:00Z",
                          "2026-02-29T00:00:00Z", "2026-04-31T00:00:00Z", "2026-13-01T00:00:00Z",
                          "2026-12-24T24:00:00Z", "2026-12-24T18:60:00Z", "2026-12-24T18:00:60Z",
                          "2026-12-24T18:00:00.Z", "2026-12-24T18:00:00+0100", "2026-12-24T18:00:00+24:00",
                          "1969-12-31T23:59:59Z", "2026-12-24T18:00:00Zjunk", "2026-12-24T18:00:00.1234567890Z",
                          "2026-12-24t18:00:00z"}) {
    EXPECT_NE(timestamp_problem(bad), "") << bad;
  }
}
