#include "matrix/search_query.hpp"

#include <gtest/gtest.h>

namespace ruche::matrix {
namespace {

TEST(BuildFtsQuery, QuotesEveryTermSoOperatorsAreWords) {
  auto q = BuildFtsQuery("foo OR bar* NEAR(baz");
  ASSERT_TRUE(q);
  EXPECT_EQ(q->expression, R"("foo" "OR" "bar*" "NEAR(baz")");
  EXPECT_EQ(q->highlights, (std::vector<std::string>{"foo", "or", "bar", "near", "baz"}));
}

TEST(BuildFtsQuery, EscapesQuotesByDoubling) {
  auto q = BuildFtsQuery(R"("foo say"s)");
  ASSERT_TRUE(q);
  EXPECT_EQ(q->expression, R"("""foo" "say""s")");
}

TEST(BuildFtsQuery, DropsTermsWithoutWordsAndKeepsUtf8) {
  auto q = BuildFtsQuery("  ( * \"\"  Café\t");
  ASSERT_TRUE(q);
  EXPECT_EQ(q->expression, "\"Café\"");
  EXPECT_EQ(q->highlights, (std::vector<std::string>{"café"}));
  auto empty = BuildFtsQuery(" ( ) * ");
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->expression.empty());
  EXPECT_TRUE(empty->highlights.empty());
}

TEST(BuildFtsQuery, BoundsLengthAndTermCount) {
  auto too_long = BuildFtsQuery(std::string(kMaxSearchTermBytes + 1, 'a'));
  ASSERT_FALSE(too_long);
  EXPECT_EQ(too_long.error().http_status, 400);
  std::string many;
  for (int i = 0; i < 40; ++i) {
    many += "w" + std::to_string(i) + " ";
  }
  auto q = BuildFtsQuery(many);
  ASSERT_TRUE(q);
  EXPECT_EQ(q->highlights.size(), kMaxSearchTerms);
}

}  // namespace
}  // namespace ruche::matrix
