#include "files/blob_store.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "core/crypto.hpp"

namespace ruche::files {
namespace fs = std::filesystem;

namespace {

constexpr std::string_view kTempDir = "tmp";

std::string Errno(std::string_view what, const std::string& path) {
  return std::string(what) + " " + path + ": " + std::strerror(errno);
}

// Closes a file descriptor when it goes out of scope.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { Close(); }
  int get() const { return fd_; }
  bool ok() const { return fd_ >= 0; }
  int Close() {
    int r = 0;
    if (fd_ >= 0) {
      r = ::close(fd_);
      fd_ = -1;
    }
    return r;
  }

 private:
  int fd_;
};

Result<void> SyncPath(const std::string& path, int flags) {
  Fd fd(::open(path.c_str(), flags | O_CLOEXEC));
  if (!fd.ok()) {
    return Error::Internal(Errno("cannot open", path));
  }
  if (::fsync(fd.get()) != 0) {
    return Error::Internal(Errno("cannot fsync", path));
  }
  return {};
}

Result<void> SyncDir(const std::string& dir) { return SyncPath(dir, O_RDONLY | O_DIRECTORY); }

Result<void> WriteAll(int fd, std::string_view bytes, const std::string& path) {
  while (!bytes.empty()) {
    ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return Error::Internal(Errno("cannot write", path));
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return {};
}

}  // namespace

bool BlobStore::IsValidDigest(std::string_view sha256) {
  if (sha256.size() != 64) {
    return false;
  }
  for (char c : sha256) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return false;
    }
  }
  return true;
}

std::string BlobStore::PathOf(std::string_view sha256) const {
  if (!IsValidDigest(sha256)) {
    return "";
  }
  std::string path = root_;
  path.append("/").append(sha256.substr(0, 2));
  path.append("/").append(sha256.substr(2, 2));
  path.append("/").append(sha256);
  return path;
}

Result<BlobStorePtr> BlobStore::Open(std::string root, Options options) {
  std::error_code ec;
  fs::create_directories(root, ec);
  if (ec) {
    return Error::Unavailable("cannot create the blob store " + root + ": " + ec.message());
  }
  fs::permissions(root, fs::perms::owner_all, fs::perm_options::replace, ec);
  fs::path tmp = fs::path(root) / kTempDir;
  // Temp files are only ever renamed away or removed: any left here are from a crash mid-Put.
  fs::remove_all(tmp, ec);
  fs::create_directories(tmp, ec);
  if (ec) {
    return Error::Unavailable("cannot create " + tmp.string() + ": " + ec.message());
  }
  return BlobStorePtr(new BlobStore(std::move(root), std::move(options)));
}

Result<void> BlobStore::EnsureDir(const std::string& parent, const std::string& dir) const {
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return Error::Internal(Errno("cannot create", dir));
  }
  // NOTE: the parent is synced even when the directory existed: another Put may have just
  // created it and not yet made its entry durable, and our blob must not depend on that.
  return SyncDir(parent);
}

Result<std::string> BlobStore::Put(std::string_view bytes) {
  std::string digest = core::Sha256Hex(bytes);
  std::string final_path = PathOf(digest);
  std::string level1 = root_ + "/" + digest.substr(0, 2);
  std::string level2 = level1 + "/" + digest.substr(2, 2);
  RUCHE_RETURN_IF_ERROR(EnsureDir(root_, level1));
  RUCHE_RETURN_IF_ERROR(EnsureDir(level1, level2));

  struct stat st {};
  if (::stat(final_path.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
      static_cast<uint64_t>(st.st_size) == bytes.size()) {
    // Already stored: the file's bytes were synced before it was renamed into place; make sure
    // the rename itself is durable too (a concurrent Put of the same bytes may be mid-way).
    RUCHE_RETURN_IF_ERROR(SyncDir(level2));
    Report(Step::kSyncDir, level2);
    return digest;
  }

  std::string tmp_path =
      root_ + "/" + std::string(kTempDir) + "/" + digest + "." + core::RandomToken(9);
  Fd fd(::open(tmp_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (!fd.ok()) {
    return Error::Internal(Errno("cannot create", tmp_path));
  }
  auto fail = [&tmp_path](Error e) -> Result<std::string> {
    ::unlink(tmp_path.c_str());
    return e;
  };
  if (auto w = WriteAll(fd.get(), bytes, tmp_path); !w) {
    return fail(w.error());
  }
  Report(Step::kWriteTemp, tmp_path);
  if (::fsync(fd.get()) != 0) {
    return fail(Error::Internal(Errno("cannot fsync", tmp_path)));
  }
  Report(Step::kSyncFile, tmp_path);
  if (fd.Close() != 0) {
    return fail(Error::Internal(Errno("cannot close", tmp_path)));
  }
  if (::rename(tmp_path.c_str(), final_path.c_str()) != 0) {
    return fail(Error::Internal(Errno("cannot rename into", final_path)));
  }
  Report(Step::kRename, final_path);
  RUCHE_RETURN_IF_ERROR(SyncDir(level2));
  Report(Step::kSyncDir, level2);
  return digest;
}

Result<std::string> BlobStore::Read(std::string_view sha256) const {
  std::string path = PathOf(sha256);
  if (path.empty()) {
    return Error::BadRequest("malformed blob digest", "M_INVALID_PARAM");
  }
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.ok()) {
    if (errno == ENOENT) {
      return Error::NotFound("blob not found");
    }
    return Error::Internal(Errno("cannot open", path));
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) {
    return Error::Internal(Errno("cannot stat", path));
  }
  std::string out;
  out.resize(static_cast<size_t>(st.st_size));
  size_t got = 0;
  while (got < out.size()) {
    ssize_t n = ::read(fd.get(), out.data() + got, out.size() - got);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return Error::Internal(Errno("cannot read", path));
    }
    if (n == 0) {
      break;  // the file shrank under us: return what is there
    }
    got += static_cast<size_t>(n);
  }
  out.resize(got);
  return out;
}

bool BlobStore::Contains(std::string_view sha256) const {
  std::string path = PathOf(sha256);
  struct stat st {};
  return !path.empty() && ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

Result<std::vector<std::string>> BlobStore::List() const {
  std::vector<std::string> out;
  std::error_code ec;
  // <root>/ab/cd/<digest>: two levels of folders, then the files.
  for (const auto& level1 : fs::directory_iterator(root_, ec)) {
    std::string name1 = level1.path().filename().string();
    if (name1.size() != 2 || !level1.is_directory()) {
      continue;  // tmp/ and anything else
    }
    for (const auto& level2 : fs::directory_iterator(level1.path(), ec)) {
      if (!level2.is_directory()) {
        continue;
      }
      for (const auto& file : fs::directory_iterator(level2.path(), ec)) {
        std::string digest = file.path().filename().string();
        if (file.is_regular_file() && PathOf(digest) == file.path().string()) {
          out.push_back(std::move(digest));
        }
      }
      if (ec) {
        return Error::Internal("cannot list " + level2.path().string() + ": " + ec.message());
      }
    }
    if (ec) {
      return Error::Internal("cannot list " + level1.path().string() + ": " + ec.message());
    }
  }
  if (ec) {
    return Error::Internal("cannot list " + root_ + ": " + ec.message());
  }
  return out;
}

Result<int64_t> BlobStore::Remove(std::string_view sha256) {
  std::string path = PathOf(sha256);
  if (path.empty()) {
    return Error::BadRequest("malformed blob digest", "M_INVALID_PARAM");
  }
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return errno == ENOENT ? Result<int64_t>(0) : Error::Internal(Errno("cannot stat", path));
  }
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return Error::Internal(Errno("cannot remove", path));
  }
  return static_cast<int64_t>(st.st_size);
}

}  // namespace ruche::files
