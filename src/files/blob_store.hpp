#pragma once
// Content-addressed blobs on disk: the SHA-256 of a blob's bytes names its file,
// <root>/ab/cd/<sha256 hex>. Identical content is stored once. A Put returns only once the bytes
// and the directory entry naming them are on disk (temp file, fsync, rename, fsync of the
// directory), so a caller that records the digest in the database afterwards never points at a
// blob a crash could lose: durable before visible.
//
// Every call does blocking disk I/O: call from the blocking pool, never from an I/O thread.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"

namespace ruche::files {

class BlobStore;
using BlobStorePtr = std::unique_ptr<BlobStore>;

class BlobStore {
 public:
  // The steps of a Put, in the order they happen (reported to Options::on_step, for tests).
  enum class Step { kWriteTemp, kSyncFile, kRename, kSyncDir };

  struct Options {
    // Observes each durability step with the path it applies to. Tests use it to pin the order.
    std::function<void(Step, const std::string&)> on_step;
  };

  // Opens the store rooted at `root`, creating it (mode 0700) if needed, and removes temp files
  // left by a crash in the middle of a Put.
  static Result<BlobStorePtr> Open(std::string root, Options options = {});

  // Stores `bytes` durably and returns their SHA-256 (lowercase hex). Storing bytes that are
  // already there writes nothing (but still makes sure their directory entry is durable).
  Result<std::string> Put(std::string_view bytes);

  // The whole blob. NotFound for an unknown digest, BadRequest for a malformed one.
  Result<std::string> Read(std::string_view sha256) const;

  // Whether a blob with this digest is stored.
  bool Contains(std::string_view sha256) const;

  // Every stored digest (files at their content address; anything else is ignored).
  Result<std::vector<std::string>> List() const;

  // Deletes the blob; its size in bytes (0 if it was not there). Only for blobs nothing refers
  // to and nothing can be storing at the same time (see matrix's SweepUnreferencedMedia).
  Result<int64_t> Remove(std::string_view sha256);

  // <root>/ab/cd/<sha256>, or "" when `sha256` is not 64 lowercase hex digits: a path is only
  // ever built from a validated digest, so no input can name a file outside the store.
  std::string PathOf(std::string_view sha256) const;

  static bool IsValidDigest(std::string_view sha256);

  const std::string& root() const { return root_; }

 private:
  BlobStore(std::string root, Options options)
      : root_(std::move(root)), options_(std::move(options)) {}
  void Report(Step step, const std::string& path) const {
    if (options_.on_step) {
      options_.on_step(step, path);
    }
  }
  // Creates `dir` if missing and makes its entry durable in `parent`.
  Result<void> EnsureDir(const std::string& parent, const std::string& dir) const;

  std::string root_;
  Options options_;
};

}  // namespace ruche::files
