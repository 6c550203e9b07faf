#pragma once
// How a stored file is handed to a browser without letting it act on the server's origin:
// which content types may be shown inline, the Content-Disposition header (RFC 6266), and which
// Content-Type values are kept from an upload at all.
#include <optional>
#include <string>
#include <string_view>

namespace ruche::files {

// "type/subtype" in lower case without parameters or spaces ("Text/HTML; charset=x" →
// "text/html").
std::string MediaTypeEssence(std::string_view content_type);

// Only images, audio, video and plain text that browsers render without running anything
// (no SVG, HTML, XML or PDF) may be shown inline; everything else is downloaded.
bool IsInlineSafe(std::string_view content_type);

// An uploader's Content-Type if it is a plausible media type (RFC 9110 §8.3.1: type "/" subtype
// of token characters, optional parameters, printable ASCII, at most 255 bytes); nullopt
// otherwise, and the file is then served as application/octet-stream.
std::optional<std::string> SanitizeContentType(std::string_view content_type);

// A file name as given by an uploader is kept if it is valid UTF-8 of 1 to 255 bytes without
// control characters.
bool IsValidFileName(std::string_view name);

// `inline` or `attachment` (by IsInlineSafe), with the file name when there is one: a quoted
// ASCII fallback in `filename` and the exact UTF-8 name in `filename*` (RFC 6266 §4.3, RFC 8187).
std::string ContentDisposition(std::string_view content_type, std::string_view file_name);

}  // namespace ruche::files
