#include "files/blob_store.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <utility>
#include <vector>

#include "core/crypto.hpp"

namespace ruche::files {
namespace {
namespace fs = std::filesystem;

class BlobStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(core::InitCrypto());
    root_ = fs::temp_directory_path() / ("ruche-blobs-" + core::RandomToken(6));
  }
  void TearDown() override { fs::remove_all(root_); }

  BlobStorePtr Open(BlobStore::Options options = {}) {
    auto s = BlobStore::Open(root_.string(), std::move(options));
    EXPECT_TRUE(s) << s.error().message;
    return std::move(*s);
  }

  fs::path root_;
};

TEST_F(BlobStoreTest, NamesABlobByTheSha256OfItsBytes) {
  auto store = Open();
  std::string bytes("binary\0with\xffNUL bytes", 21);
  auto digest = store->Put(bytes);
  ASSERT_TRUE(digest) << digest.error().message;
  EXPECT_EQ(*digest, core::Sha256Hex(bytes));
  fs::path expected = root_ / digest->substr(0, 2) / digest->substr(2, 2) / *digest;
  EXPECT_EQ(store->PathOf(*digest), expected.string());
  ASSERT_TRUE(fs::is_regular_file(expected));
  auto back = store->Read(*digest);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, bytes);
  EXPECT_TRUE(store->Contains(*digest));
  // Private to the server's user.
  struct stat st {};
  ASSERT_EQ(::stat(expected.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(BlobStoreTest, IdenticalContentIsStoredOnce) {
  std::vector<BlobStore::Step> steps;
  auto store = Open({[&steps](BlobStore::Step s, const std::string&) { steps.push_back(s); }});
  auto a = store->Put("same bytes");
  ASSERT_TRUE(a);
  steps.clear();
  auto b = store->Put("same bytes");
  ASSERT_TRUE(b);
  EXPECT_EQ(*a, *b);
  // The second Put wrote nothing: it only made sure the existing entry is durable.
  EXPECT_EQ(steps, std::vector<BlobStore::Step>{BlobStore::Step::kSyncDir});
  auto c = store->Put("other bytes");
  ASSERT_TRUE(c);
  EXPECT_NE(*a, *c);
  size_t files = 0;
  for (const auto& e : fs::recursive_directory_iterator(root_)) {
    files += e.is_regular_file() ? 1 : 0;
  }
  EXPECT_EQ(files, 2u);
}

TEST_F(BlobStoreTest, SyncsTheFileBeforeRenamingAndTheDirectoryAfter) {
  std::vector<std::pair<BlobStore::Step, std::string>> steps;
  auto store =
      Open({[&steps](BlobStore::Step s, const std::string& p) { steps.emplace_back(s, p); }});
  auto digest = store->Put("durable before visible");
  ASSERT_TRUE(digest);
  ASSERT_EQ(steps.size(), 4u);
  EXPECT_EQ(steps[0].first, BlobStore::Step::kWriteTemp);
  EXPECT_EQ(steps[1].first, BlobStore::Step::kSyncFile);
  EXPECT_EQ(steps[1].second, steps[0].second);  // the temp file, not the final name
  EXPECT_NE(steps[0].second, store->PathOf(*digest));
  EXPECT_EQ(steps[2].first, BlobStore::Step::kRename);
  EXPECT_EQ(steps[2].second, store->PathOf(*digest));
  EXPECT_EQ(steps[3].first, BlobStore::Step::kSyncDir);
  EXPECT_EQ(steps[3].second, fs::path(store->PathOf(*digest)).parent_path().string());
  // Nothing is left in the temp folder.
  EXPECT_TRUE(fs::is_empty(root_ / "tmp"));
}

TEST_F(BlobStoreTest, OpenRemovesTempFilesLeftByACrash) {
  {
    auto store = Open();
    std::ofstream(root_ / "tmp" / "half-written.x") << "partial";
  }
  auto store = Open();
  EXPECT_TRUE(fs::is_empty(root_ / "tmp"));
}

TEST_F(BlobStoreTest, ReplacesAStoredFileOfTheWrongSize) {
  auto store = Open();
  auto digest = store->Put("complete content");
  ASSERT_TRUE(digest);
  std::ofstream(store->PathOf(*digest), std::ios::trunc) << "trunc";
  ASSERT_TRUE(store->Put("complete content"));
  EXPECT_EQ(*store->Read(*digest), "complete content");
}

TEST_F(BlobStoreTest, RefusesMalformedDigests) {
  auto store = Open();
  std::string good = core::Sha256Hex("x");
  EXPECT_TRUE(BlobStore::IsValidDigest(good));
  for (std::string bad : {std::string(""), std::string("../../etc/passwd"), good.substr(1),
                          good + "0", std::string(64, 'A'), "/" + good.substr(1),
                          good.substr(0, 62) + "/.", std::string(64, 'g')}) {
    EXPECT_FALSE(BlobStore::IsValidDigest(bad)) << bad;
    EXPECT_EQ(store->PathOf(bad), "") << bad;
    EXPECT_FALSE(store->Contains(bad)) << bad;
    auto r = store->Read(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().http_status, 400) << bad;
  }
}

TEST_F(BlobStoreTest, UnknownDigestIsNotFound) {
  auto store = Open();
  auto r = store->Read(core::Sha256Hex("never stored"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().http_status, 404);
}

TEST_F(BlobStoreTest, StoresTheEmptyBlob) {
  auto store = Open();
  auto digest = store->Put("");
  ASSERT_TRUE(digest);
  auto back = store->Read(*digest);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, "");
}

TEST_F(BlobStoreTest, ListsStoredDigestsAndRemovesThem) {
  auto store = Open();
  auto a = store->Put("first blob");
  auto b = store->Put("second, longer blob");
  ASSERT_TRUE(a && b);
  // Stray files are not blobs: a temp file, a misplaced name, a file named like no digest.
  std::ofstream(root_ / "tmp" / "put-123") << "partial";
  std::ofstream(root_ / a->substr(0, 2) / a->substr(2, 2) / "notes.txt") << "x";
  fs::create_directories(root_ / "ff" / "ee");
  std::ofstream(root_ / "ff" / "ee" / *b) << "second, longer blob";  // wrong folder for b

  auto listed = store->List();
  ASSERT_TRUE(listed) << listed.error().message;
  std::sort(listed->begin(), listed->end());
  std::vector<std::string> want{*a, *b};
  std::sort(want.begin(), want.end());
  EXPECT_EQ(*listed, want);

  auto freed = store->Remove(*a);
  ASSERT_TRUE(freed) << freed.error().message;
  EXPECT_EQ(*freed, 10);
  EXPECT_FALSE(store->Contains(*a));
  EXPECT_TRUE(store->Contains(*b));
  auto again = store->Remove(*a);  // already gone
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, 0);
  EXPECT_FALSE(store->Remove("../../etc/passwd"));
  listed = store->List();
  ASSERT_TRUE(listed);
  EXPECT_EQ(*listed, std::vector<std::string>{*b});
}

}  // namespace
}  // namespace ruche::files
