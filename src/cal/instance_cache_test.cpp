#include "cal/instance_cache.hpp"

#include <gtest/gtest.h>

#include "core/clock.hpp"

namespace ruche::cal {
namespace {

StoredObject Weekly(std::string etag, std::string_view hour) {
  // Mondays from a week ago, at `hour` UTC, for an hour.
  int64_t now = core::NowMs() / 1000;
  std::string start = FormatUtcDateTime(now - 7 * 86400).substr(0, 9) + std::string(hour) + "0000Z";
  StoredObject o;
  o.name = "w.ics";
  o.etag = std::move(etag);
  o.recurring = true;
  o.data = "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:w\r\nDTSTART:" + start +
           "\r\nDURATION:PT1H\r\nRRULE:FREQ=WEEKLY\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
  return o;
}

TEST(InstanceCache, ComputesOncePerVersionAndOnlyInsideItsWindow) {
  InstanceCache cache;
  int loads = 0;
  auto load = [&]() -> std::optional<std::string> {
    ++loads;
    return std::nullopt;
  };
  TimeRange soon{core::NowMs() / 1000, core::NowMs() / 1000 + 30 * 86400};
  StoredObject v1 = Weekly("\"1\"", "10");
  auto a = cache.Get(1, v1, soon, load);
  ASSERT_TRUE(a);
  EXPECT_GE(a->list.size(), 150u);  // weekly from last week to the window's end (~3 years)
  EXPECT_TRUE(a->AnyOverlaps(soon));
  auto again = cache.Get(1, v1, soon, load);
  EXPECT_EQ(a.get(), again.get());  // the same computed list: not parsed twice
  StoredObject v2 = Weekly("\"2\"", "15");
  auto changed = cache.Get(1, v2, soon, load);
  ASSERT_TRUE(changed);
  EXPECT_NE(changed.get(), a.get());  // a new ETag: computed again
  EXPECT_NE(changed->list[0].start, a->list[0].start);
  TimeRange far{cache.window().end, cache.window().end + 86400};
  EXPECT_FALSE(cache.Get(1, v2, far, load));  // outside the window: the caller parses
  StoredObject no_text = v1;
  no_text.data.clear();
  no_text.name = "other.ics";
  EXPECT_FALSE(cache.Get(1, no_text, soon, load));
  EXPECT_EQ(loads, 1);
}

TEST(InstanceCache, OverlapsFoundByBinarySearch) {
  CachedSeries instant;
  instant.list = {{100, 100, false}};
  EXPECT_TRUE(instant.AnyOverlaps({100, 101}));
  EXPECT_FALSE(instant.AnyOverlaps({101, 200}));
  CachedSeries series;
  for (int64_t i = 0; i < 1000; ++i) {
    series.list.push_back({i * 1000, i * 1000 + 100, true});
  }
  series.list.push_back({2'000'000, 2'900'000, true});  // a long one: `longest` must cover it
  series.longest = 900'000;
  std::vector<int64_t> starts;
  series.ForEachOverlapping({2'500'000, 2'600'000},
                            [&](const ICalendar::Occurrence& o) { starts.push_back(o.start); });
  EXPECT_EQ(starts, std::vector<int64_t>{2'000'000});
  starts.clear();
  series.ForEachOverlapping({5050, 7001},
                            [&](const ICalendar::Occurrence& o) { starts.push_back(o.start); });
  EXPECT_EQ(starts, (std::vector<int64_t>{5000, 6000, 7000}));
  EXPECT_FALSE(series.AnyOverlaps({5100, 6000}));
}

}  // namespace
}  // namespace ruche::cal
