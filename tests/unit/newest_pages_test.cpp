#include "chatd/domain/newest_pages.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace {

using chatd::domain::NewestPages;

NewestPages::PagePtr page_of(const std::string& body, int n = 1) {
  auto p = std::make_shared<NewestPages::Page>();
  for (int i = 0; i < n; ++i) p->items.push_back({1, i + 1, 1, false, body});
  return p;
}

TEST(NewestPages, AnswersOnlyForTheLastSeqAndLimitItWasReadAt) {
  NewestPages pages;
  pages.put(7, 10, 50, page_of("at ten"));
  ASSERT_NE(pages.find(7, 10, 50), nullptr);
  EXPECT_EQ(pages.find(7, 10, 50)->items[0].json, "at ten");
  EXPECT_EQ(pages.find(7, 11, 50), nullptr);  // the conversation moved on
  EXPECT_EQ(pages.find(7, 10, 20), nullptr);  // another page size
  EXPECT_EQ(pages.find(8, 10, 50), nullptr);
  EXPECT_EQ(pages.hits(), 2u);
  EXPECT_EQ(pages.misses(), 3u);
}

TEST(NewestPages, AnOlderReadNeverReplacesANewerPage) {
  NewestPages pages;
  pages.put(7, 12, 50, page_of("at twelve"));
  pages.put(7, 11, 50, page_of("at eleven"));  // a slower reader of an older state
  EXPECT_EQ(pages.find(7, 11, 50), nullptr);
  ASSERT_NE(pages.find(7, 12, 50), nullptr);
  pages.put(7, 13, 50, page_of("at thirteen"));
  EXPECT_EQ(pages.find(7, 12, 50), nullptr);
  EXPECT_EQ(pages.find(7, 13, 50)->items[0].json, "at thirteen");
  EXPECT_EQ(pages.size(), 1u);
}

TEST(NewestPages, KeepsAtMostItsBoundsDroppingTheLeastRecentlyRead) {
  NewestPages pages(3, std::size_t{1} << 20);
  pages.put(1, 1, 50, page_of("one"));
  pages.put(2, 1, 50, page_of("two"));
  pages.put(3, 1, 50, page_of("three"));
  ASSERT_NE(pages.find(1, 1, 50), nullptr);  // 1 is now the most recent
  pages.put(4, 1, 50, page_of("four"));      // 2 goes
  EXPECT_EQ(pages.size(), 3u);
  EXPECT_EQ(pages.find(2, 1, 50), nullptr);
  EXPECT_NE(pages.find(1, 1, 50), nullptr);
  EXPECT_NE(pages.find(4, 1, 50), nullptr);

  NewestPages small(100, 40 * 1024);
  for (int c = 1; c <= 50; ++c) small.put(c, 1, 50, page_of(std::string(1000, 'x'), 10));
  EXPECT_LE(small.bytes(), 40u * 1024);
  EXPECT_GT(small.size(), 0u);
  EXPECT_NE(small.find(50, 1, 50), nullptr);  // the newest stays
  small.put(99, 1, 50, page_of(std::string(100 * 1024, 'y')));  // larger than the bound: not kept
  EXPECT_EQ(small.find(99, 1, 50), nullptr);
}

}  // namespace
