#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <future>
#include <thread>

#include "store/migrations.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace ruche::store {
namespace {

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("ruche_store_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string DbPath() const { return (dir_ / "ruche.db").string(); }
  StorePtr Open() {
    auto s = OpenSqliteStore({DbPath(), 2, 64});
    EXPECT_TRUE(s) << (s ? "" : s.error().message);
    return std::move(*s);
  }
  std::filesystem::path dir_;
};

TEST_F(StoreTest, AppliesEveryMigrationOnce) {
  { auto s = Open(); }
  auto s = Open();  // second open must not re-apply
  auto row = s->Read()->QueryOne("SELECT COUNT(*), MAX(version) FROM schema_migrations");
  ASSERT_TRUE(row);
  ASSERT_TRUE(row->has_value());
  EXPECT_EQ((*row)->Int(0), static_cast<int64_t>(AllMigrations().size()));
  EXPECT_EQ((*row)->Int(1), AllMigrations().back().version);
}

TEST_F(StoreTest, RefusesANewerSchema) {
  {
    auto s = Open();
    ASSERT_TRUE(s->WriteSync([](Connection& c) -> Result<void> {
      auto r = c.Execute("INSERT INTO schema_migrations VALUES (9999, 'future', 0)");
      if (!r) {
        return r.error();
      }
      return {};
    }));
  }
  auto s = OpenSqliteStore({DbPath(), 1, 1});
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("newer than this ruche binary"), std::string::npos);
}

TEST_F(StoreTest, WriteIsVisibleToReadersOnceDone) {
  auto s = Open();
  ASSERT_TRUE(s->WriteSync([](Connection& c) -> Result<void> {
    auto r = c.Execute("INSERT INTO users (localpart, created_ms) VALUES (?, ?)",
                       {std::string("alice"), int64_t{1}});
    if (!r) {
      return r.error();
    }
    return {};
  }));
  auto row = s->Read()->QueryOne("SELECT localpart FROM users WHERE localpart = ?",
                                 {std::string("alice")});
  ASSERT_TRUE(row && row->has_value());
  EXPECT_EQ((*row)->Text(0), "alice");
}

TEST_F(StoreTest, FailingWriteRollsBackAloneInItsBatch) {
  auto s = Open();
  std::atomic<int> done{0}, failed{0};
  for (int i = 0; i < 50; ++i) {
    s->Write(
        [i](Connection& c) -> Result<void> {
          // Every 10th write inserts a row, then fails: its row must vanish.
          auto r = c.Execute("INSERT INTO users (localpart, created_ms) VALUES (?, ?)",
                             {"u" + std::to_string(i), int64_t{i}});
          if (!r) {
            return r.error();
          }
          if (i % 10 == 0) {
            return Error::BadRequest("refused on purpose");
          }
          return {};
        },
        [&](Result<void> r) {
          if (!r) {
            ++failed;
          }
          ++done;
        });
  }
  s->Close();
  EXPECT_EQ(done.load(), 50);
  EXPECT_EQ(failed.load(), 5);
  auto s2 = Open();
  auto row = s2->Read()->QueryOne("SELECT COUNT(*) FROM users");
  EXPECT_EQ((*row)->Int(0), 45);
  auto gone = s2->Read()->QueryOne("SELECT COUNT(*) FROM users WHERE localpart = 'u10'");
  EXPECT_EQ((*gone)->Int(0), 0);
}

TEST_F(StoreTest, GroupCommitBatchesConcurrentWrites) {
  auto s = Open();  // max_batch_writes = 64
  // Hold the writer inside a first write while the others queue up, so the batching is
  // deterministic rather than a race against fsync.
  std::promise<void> release, holding;
  std::shared_future<void> released = release.get_future().share();
  s->Write(
      [released, &holding](Connection&) -> Result<void> {
        holding.set_value();
        released.wait();
        return {};
      },
      [](Result<void>) {});
  holding.get_future().wait();  // the writer is inside the first batch now
  constexpr int kThreads = 8, kPerThread = 200;
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        s->Write(
            [t, i](Connection& c) -> Result<void> {
              auto r = c.Execute("INSERT INTO users (localpart, created_ms) VALUES (?, ?)",
                                 {"t" + std::to_string(t) + "_" + std::to_string(i), int64_t{0}});
              if (!r) {
                return r.error();
              }
              return {};
            },
            [&](Result<void> r) {
              if (r) {
                ++ok;
              }
            });
      }
    });
  }
  for (auto& th : threads) {
    th.join();
  }
  EXPECT_EQ(s->Stats().write_queue_depth, kThreads * kPerThread);
  release.set_value();
  s->Close();
  auto stats = s->Stats();
  EXPECT_EQ(ok.load(), kThreads * kPerThread);
  EXPECT_EQ(stats.writes, kThreads * kPerThread + 1);
  EXPECT_EQ(stats.commits, 1 + (kThreads * kPerThread + 63) / 64);
}

TEST_F(StoreTest, ConstraintViolationIsAConflict) {
  auto s = Open();
  auto insert = [](Connection& c) -> Result<void> {
    auto r = c.Execute("INSERT INTO users (localpart, created_ms) VALUES ('bob', 0)");
    if (!r) {
      return r.error();
    }
    return {};
  };
  ASSERT_TRUE(s->WriteSync(insert));
  auto second = s->WriteSync(insert);
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().http_status, 409);
}

}  // namespace
}  // namespace ruche::store
