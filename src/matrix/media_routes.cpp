#include "matrix/media_routes.hpp"

#include <charconv>
#include <unordered_set>

#include "auth/accounts.hpp"
#include "core/clock.hpp"
#include "core/crypto.hpp"
#include "core/json.hpp"
#include "core/log.hpp"
#include "files/blob_store.hpp"
#include "files/download_headers.hpp"
#include "files/thumbnailer.hpp"
#include "matrix/route_helpers.hpp"
#include "net/async.hpp"

namespace ruche::matrix {

namespace asio = boost::asio;
namespace json = core::json;
using net::Request;
using net::Response;

namespace {

constexpr size_t kMaxMediaIdLength = 255;
constexpr size_t kMediaIdRandomBytes = 18;  // 24 characters of URL-safe base64
// Async uploads (/v1/create): how long a reserved ID waits for its bytes, and how many one user
// may hold at once (spec: M_LIMIT_EXCEEDED beyond the server's limit).
constexpr int64_t kUnusedExpiryMs = 24 * 60 * 60 * 1000;
constexpr int64_t kMaxPendingPerUser = 50;
// A file that is an image of a format we do not thumbnail (GIF, AVIF, ...) is returned as its
// own thumbnail when it is at most this big; larger ones get the spec's 400.
constexpr int64_t kMaxOriginalAsThumbnail = 4 * 1024 * 1024;
constexpr int64_t kMaxThumbnailDimension = 100'000;

// Matrix C-S spec "Content repository / Security considerations": the bytes are the uploader's,
// so a browser opening them must not run them on this origin.
constexpr std::string_view kMediaCsp =
    "sandbox; default-src 'none'; script-src 'none'; plugin-types application/pdf; "
    "style-src 'unsafe-inline'; media-src 'self'; object-src 'self';";
constexpr std::string_view kOctetStream = "application/octet-stream";

Error NotFound() { return Error::NotFound("Media not found"); }

// One metadata row, as downloads and thumbnails need it.
struct MediaRow {
  std::string media_id;
  std::string uploader;
  std::string content_type;  // "" = unknown
  std::string upload_name;
  std::string sha256;  // "" = reserved by /create, bytes not uploaded yet
  int64_t size = 0;
  int64_t unused_expires_ms = 0;
};

Result<std::optional<MediaRow>> LoadMedia(store::Store& store, const std::string& media_id) {
  auto lease = store.Read();
  RUCHE_ASSIGN_OR_RETURN(
      auto row, lease->QueryOne("SELECT uploader, content_type, upload_name, sha256, size, "
                                "unused_expires_ms FROM media WHERE media_id = ?",
                                {media_id}));
  if (!row) {
    return std::optional<MediaRow>();
  }
  MediaRow m;
  m.media_id = media_id;
  m.uploader = row->Text(0);
  m.content_type = row->Text(1);
  m.upload_name = row->Text(2);
  m.sha256 = row->Text(3);
  m.size = row->Int(4);
  m.unused_expires_ms = row->Int(5);
  return std::optional<MediaRow>(std::move(m));
}

// The upload's file name (query `filename`) and content type (header), validated.
struct UploadInfo {
  std::optional<std::string> file_name;
  std::optional<std::string> content_type;
};

Result<UploadInfo> ParseUploadInfo(const Request& req) {
  UploadInfo info;
  if (auto name = req.QueryParam("filename"); name && !name->empty()) {
    if (!files::IsValidFileName(*name)) {
      return Error::BadRequest(
          "filename must be valid UTF-8 of at most 255 bytes without control characters",
          "M_INVALID_PARAM");
    }
    info.file_name = std::move(*name);
  }
  // An implausible type is not an error: the file is then served as application/octet-stream.
  if (auto type = req.Header("Content-Type")) {
    info.content_type = files::SanitizeContentType(*type);
  }
  return info;
}

store::Value OptionalText(const std::optional<std::string>& v) {
  if (v) {
    return *v;
  }
  return std::monostate{};
}

Result<int64_t> ParseDimension(const Request& req, std::string_view name) {
  auto text = req.QueryParam(name);
  if (!text) {
    return Error::BadRequest("'" + std::string(name) + "' is required", "M_MISSING_PARAM");
  }
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(text->data(), text->data() + text->size(), v);
  if (ec != std::errc() || ptr != text->data() + text->size() || v <= 0 ||
      v > kMaxThumbnailDimension) {
    return Error::BadRequest("'" + std::string(name) + "' must be a positive integer",
                             "M_INVALID_PARAM");
  }
  return v;
}

// RFC 9110 §13.1.2: does If-None-Match name `etag` (or "*")?
bool NoneMatchHits(const Request& req, const std::string& etag) {
  auto inm = req.Header("If-None-Match");
  if (!inm) {
    return false;
  }
  return *inm == "*" || inm->find(etag) != std::string_view::npos;
}

// The answer to a download or thumbnail: the bytes with every header that keeps a browser from
// treating them as part of this site.
Response ServeBytes(const Request& req, std::string bytes, const std::string& content_type,
                    std::string_view file_name, const std::string& sha256, bool authenticated) {
  Response r;
  std::string etag = "\"" + sha256 + "\"";
  if (NoneMatchHits(req, etag)) {
    r.status = 304;
  } else {
    r.body = std::move(bytes);
  }
  if (content_type.empty()) {
    r.content_type = std::string(kOctetStream);
  } else {
    r.content_type = content_type;
  }
  r.Header("Content-Disposition", files::ContentDisposition(r.content_type, file_name));
  r.Header("Content-Security-Policy", std::string(kMediaCsp));
  r.Header("Cross-Origin-Resource-Policy", "cross-origin");
  // Content at an mxc:// URI never changes. Answers to authenticated requests stay out of
  // shared caches.
  if (authenticated) {
    r.Header("Cache-Control", "private, max-age=31536000, immutable");
  } else {
    r.Header("Cache-Control", "public, max-age=31536000, immutable");
  }
  r.Header("ETag", std::move(etag));
  return r;
}

}  // namespace

bool IsValidMediaId(std::string_view media_id) {
  if (media_id.empty() || media_id.size() > kMaxMediaIdLength) {
    return false;
  }
  for (char c : media_id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-';
    if (!ok) {
      return false;
    }
  }
  return true;
}

struct MediaRoutes::Media : MediaRow {};

MediaRoutes::MediaRoutes(net::Router& router, MatrixDeps deps)
    : deps_(deps),
      uploads_per_user_(deps.config.media.uploads_per_user_per_second,
                        deps.config.media.uploads_per_user_burst) {
  net::RouteOptions upload_options;
  upload_options.body_limit = deps.config.media.max_upload_bytes;
  auto upload = [this](Request& r) { return Upload(r); };
  auto upload_to = [this](Request& r) { return UploadTo(r); };
  auto config = [this](bool authed) {
    return [this, authed](Request& r) { return Config(r, authed); };
  };
  auto download = [this](bool authed) {
    return [this, authed](Request& r) { return Download(r, authed); };
  };
  auto thumbnail = [this](bool authed) {
    return [this, authed](Request& r) { return Thumbnail(r, authed); };
  };

  // Legacy, unauthenticated (deprecated by v1.11, kept for clients such as matrix-nio 0.20).
  for (std::string prefix : {"/_matrix/media/v3", "/_matrix/media/r0"}) {
    router.Add("POST", prefix + "/upload", upload, upload_options);
    router.Add("GET", prefix + "/config", config(false));
    router.Add("GET", prefix + "/download/{serverName}/{mediaId}", download(false));
    router.Add("GET", prefix + "/download/{serverName}/{mediaId}/{fileName}", download(false));
    router.Add("GET", prefix + "/thumbnail/{serverName}/{mediaId}", thumbnail(false));
  }
  router.Add("POST", "/_matrix/media/v1/create", [this](Request& r) { return Create(r); });
  router.Add("PUT", "/_matrix/media/v3/upload/{serverName}/{mediaId}", upload_to, upload_options);

  // Matrix v1.11 authenticated media.
  const std::string v1 = "/_matrix/client/v1/media";
  router.Add("GET", v1 + "/config", config(true));
  router.Add("GET", v1 + "/download/{serverName}/{mediaId}", download(true));
  router.Add("GET", v1 + "/download/{serverName}/{mediaId}/{fileName}", download(true));
  router.Add("GET", v1 + "/thumbnail/{serverName}/{mediaId}", thumbnail(true));
}

asio::awaitable<Result<std::string>> MediaRoutes::PutBlob(const std::string& bytes) {
  files::BlobStore& blobs = deps_.blobs;
  auto put = [&blobs, &bytes] { return blobs.Put(bytes); };
  co_return co_await net::Offload<Result<std::string>>(deps_.blocking, put);
}

asio::awaitable<Result<std::string>> MediaRoutes::ReadBlob(const std::string& sha256) {
  files::BlobStore& blobs = deps_.blobs;
  auto read = [&blobs, &sha256] { return blobs.Read(sha256); };
  co_return co_await net::Offload<Result<std::string>>(deps_.blocking, read);
}

Result<MediaRoutes::Media> MediaRoutes::FindMedia(const Request& req) {
  if (req.Param("serverName") != deps_.accounts.server_name()) {
    // No federation yet: remote media cannot be fetched.
    return Error::NotFound("Remote media is not available from this server");
  }
  std::string media_id(req.Param("mediaId"));
  if (!IsValidMediaId(media_id)) {
    return Error::BadRequest("Invalid media ID", "M_INVALID_PARAM");
  }
  RUCHE_ASSIGN_OR_RETURN(auto row, LoadMedia(deps_.store, media_id));
  if (!row) {
    return NotFound();
  }
  if (row->sha256.empty()) {
    if (row->unused_expires_ms < core::NowMs()) {
      return NotFound();
    }
    // Spec v1.7 async upload: reserved but not uploaded yet. We answer at once instead of
    // waiting `timeout_ms`.
    return Error(504, "M_NOT_YET_UPLOADED", "The media has not been uploaded yet");
  }
  Media m;
  static_cast<MediaRow&>(m) = std::move(*row);
  return m;
}

asio::awaitable<Response> MediaRoutes::Config(Request& req, bool authenticated) {
  if (authenticated) {
    if (auto session = Authenticate(deps_.accounts, req); !session) {
      co_return Response::FromError(session.error());
    }
  }
  co_return Response::Json(json::object{{"m.upload.size", deps_.config.media.max_upload_bytes}});
}

Result<MediaSweep> SweepUnreferencedMedia(store::Store& store, files::BlobStore& blobs) {
  RUCHE_ASSIGN_OR_RETURN(auto stored, blobs.List());
  std::unordered_set<std::string> referenced;
  {
    auto lease = store.Read();
    RUCHE_ASSIGN_OR_RETURN(auto rows,
                           lease.conn().Query("SELECT sha256 FROM media WHERE sha256 IS NOT NULL "
                                              "UNION SELECT sha256 FROM media_thumbnails",
                                              {}));
    for (const auto& row : rows) {
      referenced.insert(row.Text(0));
    }
  }
  MediaSweep sweep;
  for (const auto& digest : stored) {
    if (!referenced.contains(digest)) {
      RUCHE_ASSIGN_OR_RETURN(int64_t bytes, blobs.Remove(digest));
      sweep.blobs += 1;
      sweep.bytes += bytes;
    }
  }
  return sweep;
}

Result<void> MediaRoutes::CheckDailyQuota(const std::string& user_id, int64_t size) {
  const int64_t quota = deps_.config.media.upload_bytes_per_user_per_day;
  if (quota <= 0) {
    return {};
  }
  if (size > quota) {
    return Error::TooLarge("The file is larger than your daily upload quota");
  }
  constexpr int64_t kDayMs = 24 * 3600 * 1000;
  const int64_t now = core::NowMs();
  // Checked before the upload is stored, not inside its write: two uploads at once may both
  // pass, so the quota can be overshot by the uploads in flight (each ≤ m.upload.size).
  auto lease = deps_.store.Read();
  RUCHE_ASSIGN_OR_RETURN(auto rows, lease.conn().Query("SELECT created_ms, size FROM media WHERE "
                                                       "uploader = ? AND created_ms > ? AND size "
                                                       "IS NOT NULL ORDER BY created_ms",
                                                       {user_id, now - kDayMs}));
  int64_t used = 0;
  for (const auto& row : rows) {
    used += row.Int(1);
  }
  int64_t excess = used + size - quota;
  if (excess <= 0) {
    return {};
  }
  // The oldest uploads leave the window first: wait until those covering the excess have.
  for (const auto& row : rows) {
    excess -= row.Int(1);
    if (excess <= 0) {
      return Error::LimitExceeded(std::max<int64_t>(1, row.Int(0) + kDayMs - now));
    }
  }
  return Error::LimitExceeded(kDayMs);  // not reached: size ≤ quota
}

asio::awaitable<Response> MediaRoutes::Upload(Request& req) {
  auto session = Authenticate(deps_.accounts, req);
  if (!session) {
    co_return Response::FromError(session.error());
  }
  if (int64_t wait = uploads_per_user_.Take(session->user_id, core::MonotonicMs())) {
    co_return Response::FromError(Error::LimitExceeded(wait));
  }
  if (static_cast<int64_t>(req.body.size()) > deps_.config.media.max_upload_bytes) {
    co_return Response::FromError(Error::TooLarge("The file is larger than m.upload.size"));
  }
  if (auto quota = CheckDailyQuota(session->user_id, static_cast<int64_t>(req.body.size()));
      !quota) {
    co_return Response::FromError(quota.error());
  }
  auto info = ParseUploadInfo(req);
  if (!info) {
    co_return Response::FromError(info.error());
  }
  auto digest = co_await PutBlob(req.body);
  if (!digest) {
    RUCHE_LOG_ERROR("media upload: {}", digest.error().message);
    co_return Response::FromError(Error::Internal("Could not store the file"));
  }
  // The blob is durable: only now does the row that makes it visible commit.
  std::string media_id = core::RandomToken(kMediaIdRandomBytes);
  store::WriteFn write =
      [media_id, user = session->user_id, info = *info, sha = *digest,
       size = static_cast<int64_t>(req.body.size())](store::Connection& c) -> Result<void> {
    RUCHE_RETURN_IF_ERROR(
        c.Execute("INSERT INTO media (media_id, uploader, content_type, upload_name, sha256, size, "
                  "created_ms) VALUES (?, ?, ?, ?, ?, ?, ?)",
                  {media_id, user, OptionalText(info.content_type), OptionalText(info.file_name),
                   sha, size, core::NowMs()}));
    return {};
  };
  auto committed = co_await Commit(deps_.store, std::move(write));
  if (!committed) {
    co_return Response::FromError(committed.error());
  }
  std::string uri = "mxc://" + deps_.accounts.server_name() + "/" + media_id;
  co_return Response::Json(json::object{{"content_uri", uri}});
}

asio::awaitable<Response> MediaRoutes::Create(Request& req) {
  auto session = Authenticate(deps_.accounts, req);
  if (!session) {
    co_return Response::FromError(session.error());
  }
  if (int64_t wait = uploads_per_user_.Take(session->user_id, core::MonotonicMs())) {
    co_return Response::FromError(Error::LimitExceeded(wait));
  }
  std::string media_id = core::RandomToken(kMediaIdRandomBytes);
  int64_t now = core::NowMs();
  int64_t expires = now + kUnusedExpiryMs;
  store::WriteFn write = [media_id, user = session->user_id, now,
                          expires](store::Connection& c) -> Result<void> {
    // Counted inside the write, so concurrent /create calls cannot overshoot the limit.
    RUCHE_ASSIGN_OR_RETURN(auto pending, c.QueryOne("SELECT COUNT(*) FROM media WHERE uploader "
                                                    "= ? AND sha256 IS NULL AND "
                                                    "unused_expires_ms > ?",
                                                    {user, now}));
    if (pending && pending->Int(0) >= kMaxPendingPerUser) {
      return Error::LimitExceeded(60'000);
    }
    RUCHE_RETURN_IF_ERROR(
        c.Execute("INSERT INTO media (media_id, uploader, created_ms, unused_expires_ms) "
                  "VALUES (?, ?, ?, ?)",
                  {media_id, user, now, expires}));
    return {};
  };
  auto committed = co_await Commit(deps_.store, std::move(write));
  if (!committed) {
    co_return Response::FromError(committed.error());
  }
  std::string uri = "mxc://" + deps_.accounts.server_name() + "/" + media_id;
  co_return Response::Json(json::object{{"content_uri", uri}, {"unused_expires_at", expires}});
}

asio::awaitable<Response> MediaRoutes::UploadTo(Request& req) {
  auto session = Authenticate(deps_.accounts, req);
  if (!session) {
    co_return Response::FromError(session.error());
  }
  if (req.Param("serverName") != deps_.accounts.server_name()) {
    co_return Response::FromError(NotFound());
  }
  std::string media_id(req.Param("mediaId"));
  if (!IsValidMediaId(media_id)) {
    co_return Response::FromError(Error::BadRequest("Invalid media ID", "M_INVALID_PARAM"));
  }
  auto row = LoadMedia(deps_.store, media_id);
  if (!row) {
    co_return Response::FromError(row.error());
  }
  if (!*row || ((*row)->sha256.empty() && (*row)->unused_expires_ms < core::NowMs())) {
    co_return Response::FromError(NotFound());
  }
  if ((*row)->uploader != session->user_id) {
    co_return Response::FromError(Error::Forbidden("This media ID was reserved by another user"));
  }
  if (!(*row)->sha256.empty()) {
    co_return Response::FromError(
        Error::Conflict("The media has already been uploaded", "M_CANNOT_OVERWRITE_MEDIA"));
  }
  if (int64_t wait = uploads_per_user_.Take(session->user_id, core::MonotonicMs())) {
    co_return Response::FromError(Error::LimitExceeded(wait));
  }
  if (auto quota = CheckDailyQuota(session->user_id, static_cast<int64_t>(req.body.size()));
      !quota) {
    co_return Response::FromError(quota.error());
  }
  auto info = ParseUploadInfo(req);
  if (!info) {
    co_return Response::FromError(info.error());
  }
  auto digest = co_await PutBlob(req.body);
  if (!digest) {
    RUCHE_LOG_ERROR("media upload: {}", digest.error().message);
    co_return Response::FromError(Error::Internal("Could not store the file"));
  }
  store::WriteFn write =
      [media_id, info = *info, sha = *digest,
       size = static_cast<int64_t>(req.body.size())](store::Connection& c) -> Result<void> {
    RUCHE_ASSIGN_OR_RETURN(
        auto changed,
        c.Execute(
            "UPDATE media SET content_type = ?, upload_name = ?, sha256 = ?, size = ?, "
            "unused_expires_ms = NULL WHERE media_id = ? AND sha256 IS NULL",
            {OptionalText(info.content_type), OptionalText(info.file_name), sha, size, media_id}));
    if (changed == 0) {  // a concurrent PUT won
      return Error::Conflict("The media has already been uploaded", "M_CANNOT_OVERWRITE_MEDIA");
    }
    return {};
  };
  auto committed = co_await Commit(deps_.store, std::move(write));
  if (!committed) {
    co_return Response::FromError(committed.error());
  }
  co_return Response::Json(json::object{});
}

asio::awaitable<Response> MediaRoutes::Download(Request& req, bool authenticated) {
  if (authenticated) {
    if (auto session = Authenticate(deps_.accounts, req); !session) {
      co_return Response::FromError(session.error());
    }
  }
  auto media = FindMedia(req);
  if (!media) {
    co_return Response::FromError(media.error());
  }
  auto bytes = co_await ReadBlob(media->sha256);
  if (!bytes) {
    RUCHE_LOG_ERROR("media {}: blob {}: {}", media->media_id, media->sha256, bytes.error().message);
    co_return Response::FromError(Error::Internal("The media's content is unavailable"));
  }
  // A name in the URL (spec: "the filename to give in the Content-Disposition header") wins
  // over the uploaded one.
  std::string file_name = media->upload_name;
  std::string_view in_url = req.Param("fileName");
  if (!in_url.empty() && files::IsValidFileName(in_url)) {
    file_name = std::string(in_url);
  }
  co_return ServeBytes(req, std::move(*bytes), media->content_type, file_name, media->sha256,
                       authenticated);
}

asio::awaitable<Response> MediaRoutes::Thumbnail(Request& req, bool authenticated) {
  if (authenticated) {
    if (auto session = Authenticate(deps_.accounts, req); !session) {
      co_return Response::FromError(session.error());
    }
  }
  auto width = ParseDimension(req, "width");
  if (!width) {
    co_return Response::FromError(width.error());
  }
  auto height = ParseDimension(req, "height");
  if (!height) {
    co_return Response::FromError(height.error());
  }
  std::string method = req.QueryParam("method").value_or("scale");
  if (method != "scale" && method != "crop") {
    co_return Response::FromError(
        Error::BadRequest("method must be 'scale' or 'crop'", "M_INVALID_PARAM"));
  }
  auto media = FindMedia(req);
  if (!media) {
    co_return Response::FromError(media.error());
  }
  files::ThumbnailSize size = files::ChooseThumbnailSize(*width, *height);

  // Made before? Then no image work at all.
  std::optional<store::Row> cached;
  {
    auto lease = deps_.store.Read();
    auto found = lease->QueryOne(
        "SELECT content_type, sha256 FROM media_thumbnails WHERE media_id = ? AND width = ? AND "
        "height = ? AND method = ?",
        {media->media_id, int64_t{size.width}, int64_t{size.height}, method});
    if (!found) {
      co_return Response::FromError(found.error());
    }
    cached = std::move(*found);
  }
  if (cached) {
    std::string thumb_type = cached->Text(0);
    std::string thumb_sha = cached->Text(1);
    auto bytes = co_await ReadBlob(thumb_sha);
    if (bytes) {
      co_return ServeBytes(req, std::move(*bytes), thumb_type, "", thumb_sha, authenticated);
    }
    RUCHE_LOG_WARN("media {}: cached thumbnail {} unreadable ({}); making it again",
                   media->media_id, thumb_sha, bytes.error().message);
  }

  auto original = co_await ReadBlob(media->sha256);
  if (!original) {
    RUCHE_LOG_ERROR("media {}: blob {}: {}", media->media_id, media->sha256,
                    original.error().message);
    co_return Response::FromError(Error::Internal("The media's content is unavailable"));
  }
  if (files::SniffImage(*original) == files::ImageFormat::kNone) {
    // An image we do not resize (a GIF, say), small enough to be its own thumbnail.
    bool image = files::MediaTypeEssence(media->content_type).starts_with("image/");
    if (image && files::IsInlineSafe(media->content_type) &&
        media->size <= kMaxOriginalAsThumbnail) {
      co_return ServeBytes(req, std::move(*original), media->content_type, "", media->sha256,
                           authenticated);
    }
    co_return Response::FromError(
        Error(400, "M_UNKNOWN", "Cannot generate a thumbnail for this content"));
  }

  files::ThumbnailSpec spec{size.width, size.height, method == "crop",
                            deps_.config.media.max_image_pixels};
  files::BlobStore& blobs = deps_.blobs;
  const std::string& source = *original;
  struct Made {
    files::Thumbnail thumb;
    std::string sha256;
  };
  // Decoding, resizing, encoding and the durable write all happen on the blocking pool.
  auto make = [&source, &spec, &blobs]() -> Result<Made> {
    RUCHE_ASSIGN_OR_RETURN(auto thumb, files::MakeThumbnail(source, spec));
    RUCHE_ASSIGN_OR_RETURN(auto sha, blobs.Put(thumb.bytes));
    return Made{std::move(thumb), std::move(sha)};
  };
  auto made = co_await net::Offload<Result<Made>>(deps_.blocking, make);
  if (!made) {
    co_return Response::FromError(made.error());
  }
  store::WriteFn write = [media_id = media->media_id, size, method, type = made->thumb.content_type,
                          sha = made->sha256,
                          bytes = static_cast<int64_t>(made->thumb.bytes.size())](
                             store::Connection& c) -> Result<void> {
    RUCHE_RETURN_IF_ERROR(c.Execute(
        "INSERT INTO media_thumbnails (media_id, width, height, method, content_type, sha256, "
        "size, created_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (media_id, width, height, method) DO NOTHING",
        {media_id, int64_t{size.width}, int64_t{size.height}, method, type, sha, bytes,
         core::NowMs()}));
    return {};
  };
  auto committed = co_await Commit(deps_.store, std::move(write));
  if (!committed) {
    // The thumbnail is still good to send; the next request will simply make it again.
    RUCHE_LOG_WARN("media {}: thumbnail not cached: {}", media->media_id,
                   committed.error().message);
  }
  co_return ServeBytes(req, std::move(made->thumb.bytes), made->thumb.content_type, "",
                       made->sha256, authenticated);
}

}  // namespace ruche::matrix
