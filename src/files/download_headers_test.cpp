#include "files/download_headers.hpp"

#include <gtest/gtest.h>

namespace ruche::files {
namespace {

TEST(DownloadHeaders, InlineOnlyForPassiveMedia) {
  EXPECT_TRUE(IsInlineSafe("image/png"));
  EXPECT_TRUE(IsInlineSafe("Image/JPEG"));
  EXPECT_TRUE(IsInlineSafe("text/plain; charset=utf-8"));
  EXPECT_TRUE(IsInlineSafe("video/mp4"));
  EXPECT_TRUE(IsInlineSafe("audio/ogg"));
  EXPECT_FALSE(IsInlineSafe("text/html"));
  EXPECT_FALSE(IsInlineSafe("image/svg+xml"));
  EXPECT_FALSE(IsInlineSafe("application/pdf"));
  EXPECT_FALSE(IsInlineSafe("application/xhtml+xml"));
  EXPECT_FALSE(IsInlineSafe("text/plainx"));
  EXPECT_FALSE(IsInlineSafe(""));
}

TEST(DownloadHeaders, ContentDispositionQuotesAnAsciiName) {
  EXPECT_EQ(ContentDisposition("image/png", "cat.png"), "inline; filename=\"cat.png\"");
  EXPECT_EQ(ContentDisposition("text/html", "page.html"), "attachment; filename=\"page.html\"");
  EXPECT_EQ(ContentDisposition("text/html", ""), "attachment");
}

TEST(DownloadHeaders, ContentDispositionEncodesOtherNamesPerRfc6266) {
  EXPECT_EQ(ContentDisposition("application/pdf", "résumé.pdf"),
            "attachment; filename=\"r_sum_.pdf\"; filename*=utf-8''r%C3%A9sum%C3%A9.pdf");
  // Quotes, backslashes and header-breaking bytes never reach the quoted string.
  std::string d = ContentDisposition("image/png", "a\"b\\c;d.png");
  EXPECT_EQ(d, "inline; filename=\"a_b_c;d.png\"; filename*=utf-8''a%22b%5Cc%3Bd.png");
}

TEST(DownloadHeaders, SanitizeContentType) {
  EXPECT_EQ(SanitizeContentType("image/png").value_or(""), "image/png");
  EXPECT_EQ(SanitizeContentType("text/plain; charset=utf-8").value_or(""),
            "text/plain; charset=utf-8");
  EXPECT_FALSE(SanitizeContentType(""));
  EXPECT_FALSE(SanitizeContentType("png"));
  EXPECT_FALSE(SanitizeContentType("/png"));
  EXPECT_FALSE(SanitizeContentType("image/"));
  EXPECT_FALSE(SanitizeContentType("image/png\r\nSet-Cookie: x=1"));
  EXPECT_FALSE(SanitizeContentType("image/p ng"));
  EXPECT_FALSE(SanitizeContentType("image/\xc3\xa9"));
  EXPECT_FALSE(SanitizeContentType("a/" + std::string(300, 'b')));
}

TEST(DownloadHeaders, FileNames) {
  EXPECT_TRUE(IsValidFileName("photo.jpg"));
  EXPECT_TRUE(IsValidFileName("résumé 2024.pdf"));
  EXPECT_TRUE(IsValidFileName("\xF0\x9F\x90\x9D.png"));  // U+1F41D
  EXPECT_FALSE(IsValidFileName(""));
  EXPECT_FALSE(IsValidFileName("a\nb"));
  EXPECT_FALSE(IsValidFileName(std::string("a\0b", 3)));
  EXPECT_FALSE(IsValidFileName("\xC0\xAF"));      // overlong '/'
  EXPECT_FALSE(IsValidFileName("\xED\xA0\x80"));  // a surrogate
  EXPECT_FALSE(IsValidFileName("\xE2\x82"));      // truncated
  EXPECT_FALSE(IsValidFileName(std::string(256, 'a')));
}

}  // namespace
}  // namespace ruche::files
