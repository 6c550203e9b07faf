#include "cal/booking_slots.hpp"

#include <gtest/gtest.h>

namespace ruche::cal {
namespace {

int64_t Utc(std::string_view v) { return ParseUtcDateTime(v).value(); }

Availability NineToFiveWeekdays() {
  Availability a;
  for (int d = 0; d < 5; ++d) {
    a.weekly[d] = {{9 * 60, 12 * 60}, {14 * 60, 17 * 60}};
  }
  return a;
}

TimeZone Zone(std::string_view name) { return TimeZone::Find(name).value(); }

TEST(TimeZones, WallTimeAcrossTheSpringChange) {
  TimeZone paris = Zone("Europe/Paris");
  EXPECT_EQ(paris.ToUtc({2027, 3, 27}, 9 * 60).value(), Utc("20270327T080000Z"));
  EXPECT_EQ(paris.ToUtc({2027, 3, 29}, 9 * 60).value(), Utc("20270329T070000Z"));
  EXPECT_FALSE(paris.ToUtc({2027, 3, 28}, 2 * 60 + 30));  // skipped: 02:00 became 03:00
  // 02:30 on 31 October 2027 happens twice: the first is still summer time (UTC+2).
  EXPECT_EQ(paris.ToUtc({2027, 10, 31}, 2 * 60 + 30).value(), Utc("20271031T003000Z"));
  EXPECT_EQ(Weekday({2027, 3, 29}), 0);  // a Monday
  EXPECT_EQ(Weekday({2027, 3, 28}), 6);
  EXPECT_FALSE(TimeZone::Find("Mars/Olympus_Mons"));
  EXPECT_FALSE(ParseLocalDate("2027-02-29"));
  EXPECT_EQ(ParseLocalDate("2028-02-29")->ToString(), "2028-02-29");
}

TEST(BookingSlots, SameWallTimesOnBothSidesOfDaylightSaving) {
  BookingRules rules;
  rules.duration_min = 60;
  rules.horizon_days = 365;
  auto slots =
      ComputeSlots(rules, NineToFiveWeekdays(), Zone("Europe/Paris"), {}, {},
                   Utc("20270301T000000Z"), {Utc("20270326T000000Z"), Utc("20270330T000000Z")});
  // Friday 26 (6 slots) and Monday 29 (6 slots); the weekend has none.
  ASSERT_EQ(slots.size(), 12u);
  EXPECT_EQ(slots[0].start, Utc("20270326T080000Z"));   // 09:00 CET
  EXPECT_EQ(slots[6].start, Utc("20270329T070000Z"));   // 09:00 CEST
  EXPECT_EQ(slots[11].start, Utc("20270329T140000Z"));  // 16:00 CEST, ends at 17:00
}

TEST(BookingSlots, NewYorkChangesTwoWeeksEarlier) {
  BookingRules rules;
  rules.duration_min = 30;
  rules.horizon_days = 365;
  Availability a;
  a.weekly[6] = {{1 * 60, 4 * 60}};  // Sunday 01:00-04:00 covers the 02:00 jump
  auto slots = ComputeSlots(rules, a, Zone("America/New_York"), {}, {}, Utc("20270301T000000Z"),
                            {Utc("20270314T000000Z"), Utc("20270315T000000Z")});
  // 01:00, 01:30, then 02:00 and 02:30 do not exist, then 03:00, 03:30.
  ASSERT_EQ(slots.size(), 4u);
  EXPECT_EQ(slots[1].start, Utc("20270314T063000Z"));  // 01:30 EST
  EXPECT_EQ(slots[2].start, Utc("20270314T070000Z"));  // 03:00 EDT
}

TEST(BookingSlots, BuffersNoticeAndBusyTime) {
  BookingRules rules;
  rules.duration_min = 60;
  rules.buffer_before_min = 15;
  rules.buffer_after_min = 15;
  rules.min_notice_min = 24 * 60;
  rules.horizon_days = 30;
  Availability a;
  a.weekly[0] = {{9 * 60, 13 * 60}};  // Mondays 09:00-13:00 UTC
  std::vector<Interval> busy = {{Utc("20270104T110000Z"), Utc("20270104T113000Z")}};
  // Now is Sunday 3 January 10:00: Monday 09:00 is within a day, so too soon.
  auto slots = ComputeSlots(rules, a, Zone("UTC"), busy, {}, Utc("20270103T100000Z"),
                            {Utc("20270101T000000Z"), Utc("20270105T000000Z")});
  // 09:00 too soon (notice until Monday 10:00); 10:00 ends 11:00 + 15 min buffer touches the
  // 11:00 busy event; 11:00 overlaps it; 12:00 starts 30 min after it: free.
  ASSERT_EQ(slots.size(), 1u);
  EXPECT_EQ(slots[0].start, Utc("20270104T120000Z"));
  // Far beyond the horizon: nothing.
  EXPECT_TRUE(ComputeSlots(rules, a, Zone("UTC"), {}, {}, Utc("20270103T100000Z"),
                           {Utc("20270301T000000Z"), Utc("20270401T000000Z")})
                  .empty());
}

TEST(BookingSlots, SeatsOverridesAndDailyMaximum) {
  BookingRules rules;
  rules.duration_min = 60;
  rules.seats = 3;
  rules.horizon_days = 60;
  Availability a = NineToFiveWeekdays();
  a.overrides[{2027, 1, 5}] = {};                    // a holiday
  a.overrides[{2027, 1, 9}] = {{10 * 60, 11 * 60}};  // a Saturday opened for one slot
  std::vector<Interval> bookings(2, {Utc("20270104T090000Z"), Utc("20270104T100000Z")});
  auto slots = ComputeSlots(rules, a, Zone("UTC"), {}, bookings, Utc("20270101T000000Z"),
                            {Utc("20270104T000000Z"), Utc("20270110T000000Z")});
  ASSERT_FALSE(slots.empty());
  EXPECT_EQ(slots[0].start, Utc("20270104T090000Z"));
  EXPECT_EQ(slots[0].seats_left, 1);
  EXPECT_EQ(slots.back().start, Utc("20270109T100000Z"));
  for (const auto& s : slots) {
    EXPECT_NE(ParseUtcDateTime(FormatUtcDateTime(s.start)).value() / 86400,
              Utc("20270105T000000Z") / 86400)
        << "the holiday has no slot";
  }
  bookings.push_back({Utc("20270104T090000Z"), Utc("20270104T100000Z")});
  auto full = ComputeSlots(rules, a, Zone("UTC"), {}, bookings, Utc("20270101T000000Z"),
                           {Utc("20270104T000000Z"), Utc("20270104T100000Z")});
  EXPECT_TRUE(full.empty());  // the three seats are taken

  BookingRules one_a_day;
  one_a_day.duration_min = 60;
  one_a_day.max_per_day = 1;
  std::vector<Interval> one = {{Utc("20270104T140000Z"), Utc("20270104T150000Z")}};
  auto monday =
      ComputeSlots(one_a_day, NineToFiveWeekdays(), Zone("UTC"), {}, one, Utc("20270101T000000Z"),
                   {Utc("20270104T000000Z"), Utc("20270105T000000Z")});
  EXPECT_TRUE(monday.empty());
}

TEST(BookingSlots, RejectsNonsenseRules) {
  BookingRules r;
  r.duration_min = 0;
  EXPECT_FALSE(ValidateRules(r));
  r = {};
  r.seats = 0;
  EXPECT_FALSE(ValidateRules(r));
  Availability a;
  a.weekly[0] = {{600, 500}};
  EXPECT_FALSE(ValidateAvailability(a));
  EXPECT_TRUE(ValidateRules(BookingRules{}));
}

}  // namespace
}  // namespace ruche::cal
