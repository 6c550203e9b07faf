#pragma once
// Thumbnails of JPEG, PNG and WebP images through libvips. MakeThumbnail is blocking CPU work
// (tens of ms for a photo): run it on the blocking pool, never on an I/O thread.
#include <cstdint>
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace ruche::files {

// Starts libvips once per process (idempotent): one vips worker thread, its operation cache off
// (Ruche caches finished thumbnails itself), and every loader blocked except JPEG, PNG and WebP,
// so untrusted bytes never reach the less hardened loaders (ImageMagick, PDF, SVG, ...).
Result<void> InitImageLibrary();
void ShutdownImageLibrary();

enum class ImageFormat { kNone, kJpeg, kPng, kWebp };

// The format from the first bytes (magic numbers), whatever the uploader claimed.
ImageFormat SniffImage(std::string_view bytes);
std::string_view MimeType(ImageFormat format);

// Matrix C-S spec, "Thumbnails": servers produce a few fixed sizes; a request is served the
// smallest of them at least as large as asked (else the largest). This bounds the thumbnails
// stored per image to kThumbnailSizes × 2 methods.
struct ThumbnailSize {
  int width;
  int height;
};
inline constexpr ThumbnailSize kThumbnailSizes[] = {
    {32, 32}, {96, 96}, {320, 240}, {640, 480}, {800, 600}};
ThumbnailSize ChooseThumbnailSize(int64_t width, int64_t height);

struct ThumbnailSpec {
  int width = 0;
  int height = 0;
  bool crop = false;  // crop: exactly width×height, centred; scale: fit inside, keep the ratio
  int64_t max_input_pixels = 50'000'000;  // larger images are refused before decoding
};

struct Thumbnail {
  std::string bytes;
  std::string content_type;  // the source's format: image/jpeg, image/png or image/webp
  int width = 0;
  int height = 0;
};

// Never enlarges. Errors: 400 M_UNKNOWN for bytes that are not a JPEG/PNG/WebP image or do not
// decode, 413 M_TOO_LARGE for images over max_input_pixels.
Result<Thumbnail> MakeThumbnail(std::string_view image, const ThumbnailSpec& spec);

}  // namespace ruche::files
