#include "files/thumbnailer.hpp"

#include <vips/vips.h>

#include <memory>
#include <mutex>

#include "core/log.hpp"

namespace ruche::files {
namespace {

Error CannotThumbnail(std::string detail) {
  return Error(400, "M_UNKNOWN", "Cannot generate a thumbnail for this content: " + detail);
}

// libvips' last error message (and clears it). The buffer is shared by threads, so a message
// may rarely belong to another thread's failure: only ever used as text for people.
std::string VipsError() {
  char* copy = vips_error_buffer_copy();
  std::string out = copy != nullptr ? copy : "";
  g_free(copy);
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) {
    out.pop_back();
  }
  if (out.empty()) {
    out = "unknown libvips error";
  }
  return out;
}

struct GObjectUnref {
  void operator()(VipsImage* image) const { g_object_unref(image); }
};
using ImagePtr = std::unique_ptr<VipsImage, GObjectUnref>;

struct GFree {
  void operator()(void* p) const { g_free(p); }
};

// libvips warns on stderr about every damaged upload ("not enough data"): those are the
// uploader's problem, so they go to the debug log.
void LogVipsMessage(const gchar* domain, GLogLevelFlags level, const gchar* message, gpointer) {
  RUCHE_LOG_DEBUG("libvips: {}", message != nullptr ? message : "");
}

Result<void> InitOnce() {
  if (VIPS_INIT("ruche") != 0) {
    return Error::Internal("libvips failed to start: " + VipsError());
  }
  g_log_set_handler("VIPS",
                    static_cast<GLogLevelFlags>(G_LOG_LEVEL_WARNING | G_LOG_LEVEL_MESSAGE |
                                                G_LOG_LEVEL_INFO | G_LOG_LEVEL_DEBUG),
                    LogVipsMessage, nullptr);
  // Ruche runs thumbnails on its own small blocking pool; vips adding a worker pool per image
  // would only compete with the I/O threads on a small machine.
  vips_concurrency_set(1);
  // The operation cache would keep decoded images (and references to our request buffers)
  // alive; finished thumbnails are cached in the blob store instead.
  vips_cache_set_max(0);
  vips_cache_set_max_mem(0);
  vips_cache_set_max_files(0);
  // Untrusted input: only the three loaders we serve thumbnails for, and none flagged untrusted.
  vips_block_untrusted_set(TRUE);
  vips_operation_block_set("VipsForeignLoad", TRUE);
  vips_operation_block_set("VipsForeignLoadJpegBuffer", FALSE);
  vips_operation_block_set("VipsForeignLoadPngBuffer", FALSE);
  vips_operation_block_set("VipsForeignLoadWebpBuffer", FALSE);
  return {};
}

}  // namespace

Result<void> InitImageLibrary() {
  static std::once_flag once;
  static Result<void> result;
  std::call_once(once, [] { result = InitOnce(); });
  return result;
}

void ShutdownImageLibrary() { vips_shutdown(); }

ImageFormat SniffImage(std::string_view b) {
  if (b.size() >= 3 && b.substr(0, 3) == std::string_view("\xFF\xD8\xFF", 3)) {
    return ImageFormat::kJpeg;
  }
  if (b.size() >= 8 && b.substr(0, 8) == std::string_view("\x89PNG\r\n\x1A\n", 8)) {
    return ImageFormat::kPng;
  }
  if (b.size() >= 12 && b.substr(0, 4) == "RIFF" && b.substr(8, 4) == "WEBP") {
    return ImageFormat::kWebp;
  }
  return ImageFormat::kNone;
}

std::string_view MimeType(ImageFormat format) {
  switch (format) {
    case ImageFormat::kJpeg:
      return "image/jpeg";
    case ImageFormat::kPng:
      return "image/png";
    case ImageFormat::kWebp:
      return "image/webp";
    case ImageFormat::kNone:
      break;
  }
  return "application/octet-stream";
}

ThumbnailSize ChooseThumbnailSize(int64_t width, int64_t height) {
  for (const auto& s : kThumbnailSizes) {  // ordered from smallest to largest
    if (s.width >= width && s.height >= height) {
      return s;
    }
  }
  return kThumbnailSizes[std::size(kThumbnailSizes) - 1];
}

Result<Thumbnail> MakeThumbnail(std::string_view image, const ThumbnailSpec& spec) {
  ImageFormat format = SniffImage(image);
  if (format == ImageFormat::kNone) {
    return CannotThumbnail("not a JPEG, PNG or WebP image");
  }
  if (spec.width <= 0 || spec.height <= 0) {
    return Error::BadRequest("thumbnail width and height must be positive", "M_INVALID_PARAM");
  }
  if (auto init = InitImageLibrary(); !init) {
    return init.error();
  }
  // vips reads only the header here (pixels are decoded lazily), so the size check comes before
  // any decoding: a small file that claims 100k×100k pixels costs nothing.
  ImagePtr header(vips_image_new_from_buffer(image.data(), image.size(), "", "access",
                                             VIPS_ACCESS_SEQUENTIAL, nullptr));
  if (!header) {
    return CannotThumbnail("the image does not decode (" + VipsError() + ")");
  }
  int64_t w = vips_image_get_width(header.get());
  int64_t h = vips_image_get_height(header.get());
  header.reset();
  if (w <= 0 || h <= 0) {
    return CannotThumbnail("the image has no pixels");
  }
  if (w * h > spec.max_input_pixels) {
    return Error::TooLarge("The image is too large to thumbnail (" + std::to_string(w) + "x" +
                           std::to_string(h) + " pixels; the limit is " +
                           std::to_string(spec.max_input_pixels) + ")");
  }

  VipsImage* raw = nullptr;
  VipsInteresting crop = spec.crop ? VIPS_INTERESTING_CENTRE : VIPS_INTERESTING_NONE;
  // vips_thumbnail_buffer takes a non-const pointer but only reads the buffer.
  void* data = const_cast<char*>(image.data());
  if (vips_thumbnail_buffer(data, image.size(), &raw, spec.width, "height", spec.height, "size",
                            VIPS_SIZE_DOWN, "crop", crop, nullptr) != 0) {
    return CannotThumbnail("the image does not decode (" + VipsError() + ")");
  }
  ImagePtr thumb(raw);

  void* buf = nullptr;
  size_t len = 0;
  int saved = -1;
  switch (format) {
    case ImageFormat::kJpeg:
      saved = vips_jpegsave_buffer(thumb.get(), &buf, &len, "Q", 85, "strip", TRUE, nullptr);
      break;
    case ImageFormat::kPng:
      saved =
          vips_pngsave_buffer(thumb.get(), &buf, &len, "compression", 6, "strip", TRUE, nullptr);
      break;
    case ImageFormat::kWebp:
      saved = vips_webpsave_buffer(thumb.get(), &buf, &len, "Q", 80, "strip", TRUE, nullptr);
      break;
    case ImageFormat::kNone:
      break;
  }
  std::unique_ptr<void, GFree> owned(buf);
  if (saved != 0 || buf == nullptr) {
    return Error::Internal("could not encode the thumbnail: " + VipsError());
  }
  Thumbnail out;
  out.bytes.assign(static_cast<const char*>(buf), len);
  out.content_type = std::string(MimeType(format));
  out.width = vips_image_get_width(thumb.get());
  out.height = vips_image_get_height(thumb.get());
  return out;
}

}  // namespace ruche::files
