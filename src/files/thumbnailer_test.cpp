#include "files/thumbnailer.hpp"

#include <gtest/gtest.h>
#include <vips/vips.h>

namespace ruche::files {
namespace {

// An encoded test image of `width`×`height` made by libvips itself (a gradient, so the encoders
// have something to compress).
std::string MakeImage(int width, int height, const char* suffix) {
  VipsImage* img = nullptr;
  EXPECT_EQ(vips_xyz(&img, width, height, nullptr), 0);
  VipsImage* x = nullptr;
  EXPECT_EQ(vips_extract_band(img, &x, 0, nullptr), 0);
  g_object_unref(img);
  VipsImage* u8 = nullptr;
  EXPECT_EQ(vips_cast_uchar(x, &u8, nullptr), 0);
  g_object_unref(x);
  VipsImage* rgb = nullptr;
  VipsImage* bands[3] = {u8, u8, u8};
  EXPECT_EQ(vips_bandjoin(bands, &rgb, 3, nullptr), 0);
  g_object_unref(u8);
  void* buf = nullptr;
  size_t len = 0;
  EXPECT_EQ(vips_image_write_to_buffer(rgb, suffix, &buf, &len, nullptr), 0) << vips_error_buffer();
  g_object_unref(rgb);
  std::string out(static_cast<const char*>(buf), len);
  g_free(buf);
  return out;
}

class ThumbnailerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ASSERT_TRUE(InitImageLibrary());
    // Encoders are not blocked by InitImageLibrary; the test images are made with them.
  }
};

TEST_F(ThumbnailerTest, SniffsByMagicBytes) {
  EXPECT_EQ(SniffImage(MakeImage(4, 4, ".jpg")), ImageFormat::kJpeg);
  EXPECT_EQ(SniffImage(MakeImage(4, 4, ".png")), ImageFormat::kPng);
  EXPECT_EQ(SniffImage(MakeImage(4, 4, ".webp")), ImageFormat::kWebp);
  EXPECT_EQ(SniffImage("GIF89a........"), ImageFormat::kNone);
  EXPECT_EQ(SniffImage("<svg xmlns='http://www.w3.org/2000/svg'/>"), ImageFormat::kNone);
  EXPECT_EQ(SniffImage(""), ImageFormat::kNone);
}

TEST_F(ThumbnailerTest, ScaleKeepsTheAspectRatioAndCropFillsTheBox) {
  for (const char* suffix : {".jpg", ".png", ".webp"}) {
    std::string src = MakeImage(640, 400, suffix);
    auto scaled = MakeThumbnail(src, {320, 240, false});
    ASSERT_TRUE(scaled) << suffix << ": " << scaled.error().message;
    EXPECT_EQ(scaled->width, 320) << suffix;
    EXPECT_EQ(scaled->height, 200) << suffix;
    EXPECT_EQ(SniffImage(scaled->bytes), SniffImage(src)) << suffix;
    EXPECT_EQ(scaled->content_type, MimeType(SniffImage(src)));

    auto cropped = MakeThumbnail(src, {96, 96, true});
    ASSERT_TRUE(cropped) << suffix << ": " << cropped.error().message;
    EXPECT_EQ(cropped->width, 96) << suffix;
    EXPECT_EQ(cropped->height, 96) << suffix;
  }
}

TEST_F(ThumbnailerTest, NeverEnlarges) {
  auto t = MakeThumbnail(MakeImage(50, 20, ".png"), {800, 600, false});
  ASSERT_TRUE(t) << t.error().message;
  EXPECT_EQ(t->width, 50);
  EXPECT_EQ(t->height, 20);
}

TEST_F(ThumbnailerTest, RefusesImagesOverThePixelLimitBeforeDecoding) {
  std::string src = MakeImage(300, 200, ".png");
  auto t = MakeThumbnail(src, {96, 96, true, 300 * 200 - 1});
  ASSERT_FALSE(t);
  EXPECT_EQ(t.error().http_status, 413);
  EXPECT_EQ(t.error().errcode, "M_TOO_LARGE");
  EXPECT_NE(t.error().message.find("300x200"), std::string::npos) << t.error().message;
  EXPECT_TRUE(MakeThumbnail(src, {96, 96, true, 300 * 200}));
}

TEST_F(ThumbnailerTest, RefusesWhatIsNotAnImageOrDoesNotDecode) {
  auto gif = MakeThumbnail("GIF89a\x01\x00\x01\x00", {96, 96, true});
  ASSERT_FALSE(gif);
  EXPECT_EQ(gif.error().http_status, 400);
  std::string png = MakeImage(64, 64, ".png");
  auto broken = MakeThumbnail(png.substr(0, 20), {96, 96, true});
  ASSERT_FALSE(broken);
  EXPECT_EQ(broken.error().http_status, 400);
  auto junk = MakeThumbnail(std::string("\xFF\xD8\xFF") + std::string(100, 'x'), {96, 96, true});
  ASSERT_FALSE(junk);
  EXPECT_EQ(junk.error().http_status, 400);
}

TEST_F(ThumbnailerTest, OtherLoadersAreBlocked) {
  // A valid 1×1 GIF that libvips could read were its loader not blocked: even vips' own API
  // refuses it.
  std::string gif(
      "GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00"
      ",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02"
      "D\x01\x00;",
      43);
  VipsImage* img = vips_image_new_from_buffer(gif.data(), gif.size(), "", nullptr);
  EXPECT_EQ(img, nullptr);
  if (img != nullptr) {
    g_object_unref(img);
  }
  vips_error_clear();
}

TEST(ChooseThumbnailSize, SmallestAtLeastAsLargeElseTheLargest) {
  auto s = ChooseThumbnailSize(96, 96);
  EXPECT_EQ(s.width, 96);
  s = ChooseThumbnailSize(50, 50);
  EXPECT_EQ(s.width, 96);
  s = ChooseThumbnailSize(100, 100);
  EXPECT_EQ(s.width, 320);
  EXPECT_EQ(s.height, 240);
  s = ChooseThumbnailSize(1, 1);
  EXPECT_EQ(s.width, 32);
  s = ChooseThumbnailSize(5000, 10);
  EXPECT_EQ(s.width, 800);
  EXPECT_EQ(s.height, 600);
}

}  // namespace
}  // namespace ruche::files
