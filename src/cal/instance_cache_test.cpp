#include "cal/instance_cache.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "core/clock.hpp"
#include "core/crypto.hpp"
#include "store/sqlite/sqlite_store.hpp"

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

// A calendar's busy time: built from its objects, split between the owner's events and the
// bookings' copies, rebuilt when the calendar changes, and what ForEachBusyOccurrence reads.
class BusyTimeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(core::InitCrypto());
    dir_ = std::filesystem::temp_directory_path() /
           ("ruche_busy_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
    auto s = store::OpenSqliteStore({(dir_ / "ruche.db").string(), 2, 64});
    ASSERT_TRUE(s);
    store_ = std::move(*s);
    ASSERT_TRUE(store_->WriteSync(CalendarStore::EnsureDefaultCalendar("alice", "Alice")));
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  Calendar Personal() {
    auto cals = CalendarStore(*store_).Calendars("alice");
    EXPECT_TRUE(cals && cals->size() == 1);
    return cals->front();
  }

  // An hour-long event `days` from now (UTC), or a weekly one; `transparent` ones free.
  void Put(const std::string& name, int64_t days, bool weekly = false, bool transparent = false) {
    int64_t start = (core::NowMs() / 1000 / 3600) * 3600 + days * 86400;
    std::string text =
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\n"
        "UID:" +
        name + "\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:" + FormatUtcDateTime(start) +
        "\r\nDURATION:PT1H\r\n" + (weekly ? "RRULE:FREQ=WEEKLY;COUNT=10\r\n" : "") +
        (transparent ? "TRANSP:TRANSPARENT\r\n" : "") + "END:VEVENT\r\nEND:VCALENDAR\r\n";
    auto parsed = ICalendar::Parse(text);
    ASSERT_TRUE(parsed);
    auto summary = parsed->Validate();
    ASSERT_TRUE(summary);
    bool created = false;
    std::string etag;
    ASSERT_TRUE(store_->WriteSync(
        CalendarStore::PutObject(Personal().id, name, *summary, text, {}, &created, &etag)));
  }

  std::filesystem::path dir_;
  store::StorePtr store_;
};

TEST_F(BusyTimeTest, SplitsBookingCopiesAndFollowsChanges) {
  InstanceCache cache;
  CalendarStore calendars(*store_);
  Put("one.ics", 2);
  Put("weekly.ics", 3, /*weekly=*/true);
  Put("free.ics", 4, false, /*transparent=*/true);
  Put(std::string(kBookingObjectPrefix) + "b1.ics", 5);
  auto busy = cache.BusyTime(calendars, Personal());
  ASSERT_TRUE(busy);
  EXPECT_EQ((*busy)->events.list.size(), 11u);  // one + ten weekly; the transparent one is free
  EXPECT_EQ((*busy)->bookings.list.size(), 1u);
  EXPECT_TRUE(std::is_sorted((*busy)->events.list.begin(), (*busy)->events.list.end(),
                             [](const auto& a, const auto& b) { return a.start < b.start; }));
  auto again = cache.BusyTime(calendars, Personal());
  ASSERT_TRUE(again);
  EXPECT_EQ(again->get(), busy->get());  // unchanged calendar: the same index

  Put("two.ics", 6);
  auto changed = cache.BusyTime(calendars, Personal());
  ASSERT_TRUE(changed);
  EXPECT_NE(changed->get(), busy->get());
  EXPECT_EQ((*changed)->events.list.size(), 12u);

  // What free slots and presence read: the day of the booking copy.
  int64_t day5 = (core::NowMs() / 1000 / 3600) * 3600 + 5 * 86400;
  TimeRange around{day5 - 60, day5 + 60};
  int without = 0, with = 0;
  ASSERT_TRUE(ForEachBusyOccurrence(calendars, cache, "alice", around, false,
                                    [&](const ICalendar::Occurrence&) { ++without; }));
  ASSERT_TRUE(ForEachBusyOccurrence(calendars, cache, "alice", around, true,
                                    [&](const ICalendar::Occurrence&) { ++with; }));
  EXPECT_EQ(without, 0);
  EXPECT_EQ(with, 1);
  // Outside the cache's window the objects are parsed: the same answers.
  Put("far.ics", 1150);
  int64_t day1150 = (core::NowMs() / 1000 / 3600) * 3600 + 1150 * 86400;
  TimeRange beyond{day1150 - 86400, day1150 + 86400};
  ASSERT_GT(beyond.end, cache.window().end);
  std::vector<int64_t> far;
  ASSERT_TRUE(
      ForEachBusyOccurrence(calendars, cache, "alice", beyond, true,
                            [&](const ICalendar::Occurrence& oc) { far.push_back(oc.start); }));
  EXPECT_EQ(far, std::vector<int64_t>{day1150});
}

TEST_F(BusyTimeTest, WarmsTheCalendarsOfBookingOwnersOnly) {
  Put("one.ics", 2);
  ASSERT_TRUE(store_->WriteSync(CalendarStore::EnsureDefaultCalendar("bob", "Bob")));
  ASSERT_TRUE(store_->WriteSync([](store::Connection& c) -> Result<void> {
    RUCHE_RETURN_IF_ERROR(
        c.Execute("INSERT INTO booking_types (booking_type_id, owner, slug, settings, "
                  "created_ts) VALUES ('t1', 'alice', 'meet', '{}', 0)"));
    return {};
  }));
  InstanceCache cache;
  std::atomic<bool> stop{true};
  WarmBookingOwners(*store_, cache, stop);
  EXPECT_EQ(cache.busy_calendars(), 0u);  // asked to stop: nothing built
  stop = false;
  WarmBookingOwners(*store_, cache, stop);
  EXPECT_EQ(cache.busy_calendars(), 1u);  // alice's calendar, not bob's (no booking type)
  CalendarStore calendars(*store_);
  auto first = cache.BusyTime(calendars, Personal());
  ASSERT_TRUE(first);
  EXPECT_EQ((*first)->events.list.size(), 1u);
}

}  // namespace
}  // namespace ruche::cal
