#include "meet/signalling_messages.hpp"

#include <gtest/gtest.h>

namespace ruche::meet {
namespace {

using Type = ClientMessage::Type;

TEST(SignallingMessages, ParsesEachType) {
  auto join = ParseClientMessage(R"({"type":"join","key":"k1","display_name":"  Zoé  "})");
  ASSERT_TRUE(join) << join.error().message;
  EXPECT_EQ(join->type, Type::kJoin);
  EXPECT_EQ(join->key, "k1");
  EXPECT_EQ(join->display_name, "Zoé");
  EXPECT_FALSE(join->access_token);

  auto member = ParseClientMessage(R"({"type":"join","key":"k","access_token":"t"})");
  ASSERT_TRUE(member);
  EXPECT_EQ(member->access_token, "t");

  auto pub = ParseClientMessage(R"({"type":"publish","sdp":"v=0\r\n"})");
  ASSERT_TRUE(pub);
  EXPECT_EQ(pub->type, Type::kPublish);
  EXPECT_EQ(pub->sdp, "v=0\r\n");

  auto sub = ParseClientMessage(R"({"type":"subscribe","producer_ids":["a","b"]})");
  ASSERT_TRUE(sub);
  EXPECT_EQ(sub->producer_ids, (std::vector<std::string>{"a", "b"}));
  auto unsub = ParseClientMessage(R"({"type":"unsubscribe","producer_ids":[]})");
  ASSERT_TRUE(unsub);
  EXPECT_EQ(unsub->type, Type::kUnsubscribe);

  auto layer =
      ParseClientMessage(R"({"type":"preferred_layer","producer_id":"p","spatial_layer":1})");
  ASSERT_TRUE(layer);
  EXPECT_EQ(layer->spatial_layer, 1);

  auto mute = ParseClientMessage(R"({"type":"mute","audio":true,"video":false})");
  ASSERT_TRUE(mute);
  EXPECT_TRUE(mute->audio_muted);
  EXPECT_FALSE(mute->video_muted);

  EXPECT_EQ(ParseClientMessage(R"({"type":"leave"})")->type, Type::kLeave);
}

TEST(SignallingMessages, RefusesMalformedRequestsWithTheRightCode) {
  struct Case {
    const char* text;
    const char* code;
  };
  for (const Case& c : std::initializer_list<Case>{
           {"nope", "M_NOT_JSON"},
           {"[]", "M_BAD_JSON"},
           {R"({"type":5})", "M_BAD_JSON"},
           {R"({"type":"fly"})", "M_UNRECOGNIZED"},
           {R"({"type":"join","key":"k"})", "M_INVALID_PARAM"},
           {R"({"type":"join","display_name":"a"})", "M_BAD_JSON"},
           {R"({"type":"join","key":"","display_name":"a"})", "M_INVALID_PARAM"},
           {R"({"type":"join","key":"k","display_name":"   "})", "M_INVALID_PARAM"},
           {R"({"type":"join","key":"k","display_name":"a\u0000b"})", "M_INVALID_PARAM"},
           {R"({"type":"publish"})", "M_BAD_JSON"},
           {R"({"type":"publish","sdp":""})", "M_INVALID_PARAM"},
           {R"({"type":"subscribe","producer_ids":[1]})", "M_BAD_JSON"},
           {R"({"type":"subscribe","producer_ids":[""]})", "M_BAD_JSON"},
           {R"({"type":"preferred_layer","producer_id":"p","spatial_layer":3})", "M_INVALID_PARAM"},
           {R"({"type":"preferred_layer","producer_id":"p","spatial_layer":"1"})",
            "M_INVALID_PARAM"},
           {R"({"type":"mute","audio":true})", "M_BAD_JSON"},
       }) {
    auto r = ParseClientMessage(c.text);
    ASSERT_FALSE(r) << c.text;
    EXPECT_EQ(r.error().errcode, c.code) << c.text;
  }
}

TEST(SignallingMessages, BoundsSizes) {
  std::string name(65, 'a');
  EXPECT_FALSE(ParseClientMessage(R"({"type":"join","key":"k","display_name":")" + name + "\"}"));
  // 64 code points of two bytes each is fine.
  std::string accents;
  for (int i = 0; i < 64; ++i) {
    accents += "é";
  }
  EXPECT_TRUE(ParseClientMessage(R"({"type":"join","key":"k","display_name":")" + accents + "\"}"));
  std::string ids = "[";
  for (size_t i = 0; i <= kMaxProducerIdsPerMessage; ++i) {
    ids += (i ? ",\"x\"" : "\"x\"");
  }
  ids += "]";
  EXPECT_FALSE(ParseClientMessage(R"({"type":"subscribe","producer_ids":)" + ids + "}"));
  std::string big_sdp(kMaxSdp + 1, 'v');
  EXPECT_FALSE(ParseClientMessage(R"({"type":"publish","sdp":")" + big_sdp + "\"}"));
}

}  // namespace
}  // namespace ruche::meet
