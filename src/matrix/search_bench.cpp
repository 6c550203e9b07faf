// Search over 1M short messages (issue "Team chat core", Search): the newest 50 matches vs the
// 50 best by bm25 rank, through SearchRoomEvents (the code behind POST /search), for a word in
// most messages and a rare one. Builds its database once in /var/tmp (about a minute).
//   build-release/src/matrix/ruche_matrix_bench --benchmark_filter=Search
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <filesystem>
#include <random>

#include "matrix/search_routes.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace ruche::matrix {
namespace {

namespace json = core::json;

constexpr int64_t kMessages = 1'000'000;
constexpr int kRooms = 20;
const std::string kUser = "@bench:example.org";

store::Store& BenchStore() {
  static store::StorePtr store = [] {
    auto dir =
        std::filesystem::path("/var/tmp") / ("ruche_search_bench_" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    auto opened = store::OpenSqliteStore({(dir / "ruche.db").string(), 1, 512});
    if (!opened) {
      std::fprintf(stderr, "open: %s\n", opened.error().message.c_str());
      std::abort();
    }
    store::StorePtr s = std::move(*opened);
    // 40 words; "the" is in ~63% of messages, "zephyr" in ~0.1%.
    const std::vector<std::string> words = {
        "meeting",  "report",   "budget",  "lunch",  "deploy",  "review", "client", "invoice",
        "server",   "coffee",   "release", "bug",    "design",  "sprint", "ticket", "holiday",
        "network",  "backup",   "printer", "office", "project", "launch", "slides", "agenda",
        "contract", "travel",   "hotel",   "train",  "weekend", "friday", "monday", "update",
        "draft",    "feedback", "demo",    "call",   "email",   "team",   "plan",   "notes"};
    std::mt19937_64 rng(42);
    for (int64_t start = 0; start < kMessages; start += 50'000) {
      auto write = s->WriteSync([&](store::Connection& c) -> Result<void> {
        for (int64_t i = start; i < start + 50'000; ++i) {
          std::string body;
          if (rng() % 100 < 63) {
            body = "the ";
          }
          for (int w = 0; w < 6; ++w) {
            body += words[rng() % words.size()] + " ";
          }
          if (rng() % 1000 == 0) {
            body += "zephyr";
          }
          std::string room = "!room" + std::to_string(i % kRooms) + ":example.org";
          std::string json = R"({"type":"m.room.message","content":{"msgtype":"m.text","body":")" +
                             body + R"("},"sender":"@bench:example.org"})";
          RUCHE_RETURN_IF_ERROR(
              (c.Execute("INSERT INTO events (stream_ordering, event_id, room_id, type, sender, "
                         "depth, origin_server_ts, json) VALUES (?, ?, ?, 'm.room.message', ?, "
                         "?, 0, ?)",
                         {i + 1, "$e" + std::to_string(i), room, kUser, i, json})));
        }
        return {};
      });
      if (!write) {
        std::fprintf(stderr, "fill: %s\n", write.error().message.c_str());
        std::abort();
      }
    }
    auto members = s->WriteSync([](store::Connection& c) -> Result<void> {
      for (int r = 0; r < kRooms; ++r) {
        RUCHE_RETURN_IF_ERROR((c.Execute(
            "INSERT INTO memberships (room_id, user_id, membership, event_id, stream_ordering) "
            "VALUES (?, ?, 'join', '$m', 0)",
            {"!room" + std::to_string(r) + ":example.org", kUser})));
      }
      return {};
    });
    if (!members) {
      std::abort();
    }
    return s;
  }();
  return *store;
}

void BM_Search(benchmark::State& state, const char* term, const char* order) {
  store::Store& s = BenchStore();
  json::object criteria{
      {"search_term", term}, {"order_by", order}, {"filter", json::object{{"limit", 50}}}};
  int64_t count = 0;
  for (auto _ : state) {
    auto lease = s.Read();
    auto out = SearchRoomEvents(lease.conn(), kUser, criteria, std::nullopt);
    if (!out) {
      state.SkipWithError(out.error().message.c_str());
      return;
    }
    count = out->at("count").as_int64();
    benchmark::DoNotOptimize(out);
  }
  state.counters["count_capped"] = static_cast<double>(count);
}

BENCHMARK_CAPTURE(BM_Search, common_recent, "the", "recent")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Search, common_rank, "the", "rank")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Search, rare_recent, "zephyr", "recent")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Search, rare_rank, "zephyr", "rank")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Search, two_words_recent, "budget friday", "recent")
    ->Unit(benchmark::kMillisecond);

// What a redaction of an indexed message costs the writer: the row rewrite, the index delete
// and the 'optimize' that merges the whole index so the deleted tokens leave the file
// (migration 8). Runs last: it removes a few messages from the index.
void BM_RedactIndexedMessage(benchmark::State& state) {
  store::Store& s = BenchStore();
  int64_t next = 1;
  for (auto _ : state) {
    int64_t id = next;
    next += 1000;
    auto r = s.WriteSync([id](store::Connection& c) -> Result<void> {
      RUCHE_RETURN_IF_ERROR(
          (c.Execute("UPDATE events SET json = ? WHERE stream_ordering = ?",
                     {std::string(R"({"type":"m.room.message","content":{}})"), id})));
      return {};
    });
    if (!r) {
      state.SkipWithError(r.error().message.c_str());
      return;
    }
  }
}
BENCHMARK(BM_RedactIndexedMessage)->Unit(benchmark::kMillisecond)->Iterations(5);

}  // namespace
}  // namespace ruche::matrix
