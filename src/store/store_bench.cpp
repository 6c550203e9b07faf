// Group commit vs one transaction per write (issue "Team chat core", figure 3), at the store
// level: a burst of event-sized inserts queued at once, committed with synchronous=FULL on the
// real disk. `max_batch:1` is what a server without group commit pays (one fsync per write).
//   build-release/src/store/ruche_store_bench --benchmark_counters_tabular=true
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <mutex>

#include "store/sqlite/sqlite_store.hpp"

namespace ruche::store {
namespace {

void BM_CommitBurst(benchmark::State& state) {
  const int max_batch = static_cast<int>(state.range(0));
  const int burst = static_cast<int>(state.range(1));
  auto dir = std::filesystem::path("/var/tmp") /
             ("ruche_store_bench_" + std::to_string(::getpid()) + "_" + std::to_string(max_batch));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  auto opened = OpenSqliteStore({(dir / "ruche.db").string(), 1, max_batch});
  if (!opened) {
    state.SkipWithError(opened.error().message.c_str());
    return;
  }
  StorePtr store = std::move(*opened);
  const std::string payload(600, 'x');  // about a chat message event's stored JSON
  int64_t next = 0;
  for (auto _ : state) {
    std::mutex mu;
    std::condition_variable cv;
    int done = 0;
    for (int i = 0; i < burst; ++i) {
      int64_t id = next++;
      store->Write(
          [id, &payload](Connection& c) -> Result<void> {
            auto r = c.Execute(
                "INSERT INTO events (stream_ordering, event_id, room_id, type, sender, depth, "
                "origin_server_ts, json) VALUES (?, ?, '!r:x', 'm.room.message', '@a:x', ?, 0, ?)",
                {id, "$" + std::to_string(id), id, payload});
            if (!r) {
              return r.error();
            }
            return {};
          },
          [&](Result<void>) {
            std::lock_guard lock(mu);
            if (++done == burst) {
              cv.notify_one();
            }
          });
    }
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return done == burst; });
  }
  auto stats = store->Stats();
  state.SetItemsProcessed(state.iterations() * burst);
  state.counters["writes_per_commit"] =
      static_cast<double>(stats.writes) / static_cast<double>(std::max<int64_t>(1, stats.commits));
  store->Close();
  store.reset();
  std::filesystem::remove_all(dir);
}

BENCHMARK(BM_CommitBurst)
    ->ArgNames({"max_batch", "burst"})
    ->Args({1, 200})
    ->Args({512, 200})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace
}  // namespace ruche::store
