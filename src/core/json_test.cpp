#include "core/json.hpp"

#include <gtest/gtest.h>

namespace ruche::core {
namespace {

TEST(JsonTest, ParseErrorsAreMatrixErrors) {
  EXPECT_EQ(ParseJsonObject("{bad").error().errcode, "M_NOT_JSON");
  EXPECT_EQ(ParseJsonObject("{\"a\":\"\xff\"}").error().errcode, "M_NOT_JSON");  // bad UTF-8
  EXPECT_EQ(ParseJsonObject("[1,2]").error().errcode, "M_BAD_JSON");
  EXPECT_EQ(ParseJsonObject("").error().errcode, "M_NOT_JSON");
  EXPECT_TRUE(ParseJsonObject("{\"a\":\"é\"}"));
}

TEST(JsonTest, DepthIsBounded) {
  std::string deep(kMaxJsonDepth + 10, '[');
  deep = "{\"a\":" + deep + std::string(kMaxJsonDepth + 10, ']') + "}";
  EXPECT_EQ(ParseJsonObject(deep).error().errcode, "M_NOT_JSON");
}

TEST(JsonTest, TypedAccessors) {
  auto o = *ParseJsonObject(R"({"s":"x","n":1,"b":true,"o":{},"z":null})");
  EXPECT_EQ(**OptString(o, "s"), "x");
  EXPECT_FALSE(*OptString(o, "missing"));
  EXPECT_FALSE(*OptString(o, "z"));
  EXPECT_EQ(OptString(o, "n").error().errcode, "M_BAD_JSON");
  EXPECT_EQ(RequireString(o, "missing").error().errcode, "M_BAD_JSON");
  EXPECT_TRUE(**OptBool(o, "b"));
  EXPECT_FALSE(OptBool(o, "s"));
  EXPECT_NE(*OptObject(o, "o"), nullptr);
  EXPECT_FALSE(OptObject(o, "s"));
}

TEST(JsonTest, ErrorBodyShape) {
  auto body = json::parse(ErrorBody(Error::LimitExceeded(250))).as_object();
  EXPECT_EQ(body["errcode"], "M_LIMIT_EXCEEDED");
  EXPECT_EQ(body["retry_after_ms"], 250);
  auto unknown = json::parse(ErrorBody(Error::UnknownToken())).as_object();
  EXPECT_EQ(unknown["soft_logout"], false);
}

}  // namespace
}  // namespace ruche::core
