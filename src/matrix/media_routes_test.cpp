#include "matrix/media_routes.hpp"

#include <gtest/gtest.h>

namespace ruche::matrix {
namespace {

TEST(MediaId, AcceptsWhatThisServerIssues) {
  EXPECT_TRUE(IsValidMediaId("AbCdEf0123456789_-xyzQ"));
  EXPECT_TRUE(IsValidMediaId("a"));
  EXPECT_TRUE(IsValidMediaId(std::string(255, 'x')));
}

TEST(MediaId, RefusesAnythingThatCouldNameAnotherPath) {
  for (std::string bad :
       {std::string(""), std::string(".."), std::string("../../etc/passwd"), std::string("/etc"),
        std::string("a/b"), std::string("a\\b"), std::string("a.b"), std::string("a b"),
        std::string("a%2Fb"), std::string("a\0b", 3), std::string("é"), std::string(256, 'x')}) {
    EXPECT_FALSE(IsValidMediaId(bad)) << bad;
  }
}

}  // namespace
}  // namespace ruche::matrix
