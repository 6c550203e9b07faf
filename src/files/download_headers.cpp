#include "files/download_headers.hpp"

#include <array>
#include <cctype>
#include <cstdint>

namespace ruche::files {
namespace {

constexpr size_t kMaxContentTypeLength = 255;

// Rendered by browsers as media or text, never as a document that runs script.
constexpr std::array<std::string_view, 24> kInlineTypes = {
    "text/plain", "image/jpeg", "image/png",    "image/gif",  "image/webp", "image/avif",
    "image/apng", "image/bmp",  "video/mp4",    "video/webm", "video/ogg",  "video/quicktime",
    "audio/mpeg", "audio/mp4",  "audio/ogg",    "audio/webm", "audio/wav",  "audio/x-wav",
    "audio/wave", "audio/flac", "audio/x-flac", "audio/aac",  "audio/opus", "audio/x-m4a",
};

bool IsTokenChar(char c) {
  // RFC 9110 §5.6.2 tchar.
  return std::isalnum(static_cast<unsigned char>(c)) ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool IsAttrChar(unsigned char c) {
  // RFC 8187 §3.2.1 attr-char.
  return std::isalnum(c) ||
         std::string_view("!#$&+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
}

}  // namespace

std::string MediaTypeEssence(std::string_view content_type) {
  std::string_view essence = content_type.substr(0, content_type.find(';'));
  std::string out;
  for (char c : essence) {
    if (c != ' ' && c != '\t') {
      out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    }
  }
  return out;
}

bool IsInlineSafe(std::string_view content_type) {
  std::string essence = MediaTypeEssence(content_type);
  for (auto t : kInlineTypes) {
    if (essence == t) {
      return true;
    }
  }
  return false;
}

std::optional<std::string> SanitizeContentType(std::string_view content_type) {
  if (content_type.empty() || content_type.size() > kMaxContentTypeLength) {
    return std::nullopt;
  }
  for (char c : content_type) {
    if (c < 0x20 || c > 0x7e) {
      return std::nullopt;  // no control characters (CR/LF!) and no non-ASCII
    }
  }
  std::string_view essence = content_type.substr(0, content_type.find(';'));
  while (!essence.empty() && essence.back() == ' ') {
    essence.remove_suffix(1);
  }
  size_t slash = essence.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == essence.size()) {
    return std::nullopt;
  }
  for (size_t i = 0; i < essence.size(); ++i) {
    if (i != slash && !IsTokenChar(essence[i])) {
      return std::nullopt;
    }
  }
  return std::string(content_type);
}

bool IsValidFileName(std::string_view name) {
  constexpr size_t kMaxFileNameLength = 255;
  if (name.empty() || name.size() > kMaxFileNameLength) {
    return false;
  }
  size_t i = 0;
  while (i < name.size()) {
    auto c = static_cast<unsigned char>(name[i]);
    if (c < 0x80) {
      if (c < 0x20 || c == 0x7f) {
        return false;
      }
      ++i;
      continue;
    }
    // RFC 3629 §4: the shortest form only, no surrogates, nothing above U+10FFFF.
    size_t len = 0;
    uint32_t cp = 0;
    if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + len > name.size()) {
      return false;
    }
    for (size_t k = 1; k < len; ++k) {
      auto cc = static_cast<unsigned char>(name[i + k]);
      if ((cc & 0xC0) != 0x80) {
        return false;
      }
      cp = (cp << 6) | (cc & 0x3F);
    }
    constexpr uint32_t kMinForLength[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMinForLength[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF) ||
        (cp >= 0x80 && cp < 0xA0)) {  // C1 controls
      return false;
    }
    i += len;
  }
  return true;
}

std::string ContentDisposition(std::string_view content_type, std::string_view file_name) {
  std::string out = IsInlineSafe(content_type) ? "inline" : "attachment";
  if (file_name.empty()) {
    return out;
  }
  std::string fallback;
  bool plain = true;
  for (unsigned char c : file_name) {
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\' && c != '/') {
      fallback.push_back(static_cast<char>(c));
    } else {
      plain = false;
      if (c < 0x80 || (c & 0xC0) == 0xC0) {  // one '_' per character, not per UTF-8 byte
        fallback.push_back('_');
      }
    }
  }
  out.append("; filename=\"").append(fallback).append("\"");
  if (!plain) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    out.append("; filename*=utf-8''");
    for (unsigned char c : file_name) {
      if (IsAttrChar(c)) {
        out.push_back(static_cast<char>(c));
      } else {
        out.push_back('%');
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 0xF]);
      }
    }
  }
  return out;
}

}  // namespace ruche::files
