#pragma once
// The Matrix media repository (C-S spec "Content repository"): upload (/_matrix/media/{v3,r0}/
// upload, and the async /v1/create + PUT /v3/upload/{server}/{id}), download, thumbnails and
// config — both the authenticated v1.11 endpoints under /_matrix/client/v1/media/ and the legacy
// unauthenticated /_matrix/media/{v3,r0}/ ones older clients still use. Bytes live in the
// files::BlobStore (by SHA-256), metadata in the `media` and `media_thumbnails` tables.
#include <cstdint>
#include <string_view>

#include "matrix/client_api.hpp"
#include "net/rate_limiter.hpp"
#include "net/router.hpp"

namespace ruche::matrix {

// A media ID this server could have issued: 1 to 255 characters of [A-Za-z0-9_-]. Everything
// else (dots, slashes, percent-decoded separators, NUL) is refused before any lookup.
bool IsValidMediaId(std::string_view media_id);

struct MediaSweep {
  int64_t blobs = 0;  // removed
  int64_t bytes = 0;
};
// Removes the blobs no media row or thumbnail refers to: those of uploads cut between the
// blob's rename and the row's commit (a crash, a kill). Only at start-up, before the server
// listens: an upload in flight could otherwise be storing a blob the sweep has just judged
// unreferenced.
Result<MediaSweep> SweepUnreferencedMedia(store::Store& store, files::BlobStore& blobs);

class MediaRoutes {
 public:
  MediaRoutes(net::Router& router, MatrixDeps deps);

 private:
  struct Media;
  boost::asio::awaitable<net::Response> Upload(net::Request& req);
  boost::asio::awaitable<net::Response> Create(net::Request& req);
  boost::asio::awaitable<net::Response> UploadTo(net::Request& req);
  boost::asio::awaitable<net::Response> Download(net::Request& req, bool authenticated);
  boost::asio::awaitable<net::Response> Thumbnail(net::Request& req, bool authenticated);
  boost::asio::awaitable<net::Response> Config(net::Request& req, bool authenticated);

  // The daily upload quota (media.upload_bytes_per_user_per_day): ok, or 429 with the time
  // until enough of the last 24 hours' uploads age out, or 413 when `size` alone exceeds it.
  Result<void> CheckDailyQuota(const std::string& user_id, int64_t size);
  // The local, uploaded media named by the request's {serverName}/{mediaId}.
  Result<Media> FindMedia(const net::Request& req);
  // Stores `bytes` in the blob store on the blocking pool; their SHA-256.
  boost::asio::awaitable<Result<std::string>> PutBlob(const std::string& bytes);
  boost::asio::awaitable<Result<std::string>> ReadBlob(const std::string& sha256);

  MatrixDeps deps_;
  net::RateLimiter uploads_per_user_;
};

}  // namespace ruche::matrix
