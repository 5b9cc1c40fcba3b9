// How a search query becomes terms: Latin words match at a word's beginning,
// everything else anywhere; the limits answer 400 naming q.
#include <gtest/gtest.h>

#include "chatd/domain/search_service.hpp"

namespace chatd::domain {
namespace {

TEST(SearchTerms, LatinWordsArePrefixesAndOtherScriptsSubstrings) {
  auto t = search_terms("  hel  你好 Ünter 😀 9lives -x ");
  ASSERT_TRUE(t);
  ASSERT_EQ(t->size(), 6u);
  EXPECT_EQ((*t)[0].text, "hel");
  EXPECT_TRUE((*t)[0].word_prefix);
  EXPECT_EQ((*t)[1].text, "你好");
  EXPECT_FALSE((*t)[1].word_prefix);
  EXPECT_TRUE((*t)[2].word_prefix) << "Latin-1 letters are Latin script";
  EXPECT_FALSE((*t)[3].word_prefix);
  EXPECT_TRUE((*t)[4].word_prefix);
  EXPECT_FALSE((*t)[5].word_prefix) << "punctuation matches anywhere";
}

TEST(SearchTerms, EmptyOverlongManyWordsAndBadUtf8AreRefused) {
  for (const std::string& q : {std::string(""), std::string("   "), std::string(201, 'a'),
                               std::string("a b c d e f g h i"), std::string("\xff\xfe"),
                               std::string("a\0b", 3)}) {
    auto t = search_terms(q);
    ASSERT_FALSE(t) << q;
    EXPECT_EQ(t.error().code, "invalid_request");
    EXPECT_NE(t.error().message.find('q'), std::string::npos);
  }
  EXPECT_TRUE(search_terms(std::string(200, 'a')));
  std::string chinese;
  for (int i = 0; i < 200; ++i) chinese += "字";  // 200 characters, 600 bytes
  EXPECT_TRUE(search_terms(chinese));
}

TEST(SearchTerms, CursorsRoundTripAndForeignOnesAreRefused) {
  store::SearchPosition p{1767225600123456, 42, 7};
  auto back = decode_search_cursor(encode_search_cursor(p));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->created_us, p.created_us);
  EXPECT_EQ(back->conversation, 42);
  EXPECT_EQ(back->seq, 7);
  for (const char* bad : {"", "1.2", "a.b.c", "1.2.3.4", "-1.2.3", "1..3"}) {
    EXPECT_FALSE(decode_search_cursor(bad)) << bad;
  }
}

}  // namespace
}  // namespace chatd::domain
