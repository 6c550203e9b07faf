#include "cal/icalendar.hpp"

#include <gtest/gtest.h>

namespace ruche::cal {
namespace {

std::string Calendar(std::string_view body) {
  std::string s = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n";
  s += body;
  s += "END:VCALENDAR\r\n";
  return s;
}

int64_t Utc(std::string_view v) { return ParseUtcDateTime(v).value(); }

TEST(ICalendar, WeeklyEventInParisFollowsTheMarchDaylightSavingChange) {
  auto cal = ICalendar::Parse(Calendar(
      "BEGIN:VEVENT\r\nUID:w\r\nDTSTAMP:20270101T000000Z\r\n"
      "DTSTART;TZID=Europe/Paris:20270315T090000\r\nDTEND;TZID=Europe/Paris:20270315T100000\r\n"
      "RRULE:FREQ=WEEKLY\r\nEND:VEVENT\r\n"));
  ASSERT_TRUE(cal);
  auto summary = cal->Validate();
  ASSERT_TRUE(summary);
  EXPECT_TRUE(summary->recurring);
  EXPECT_FALSE(summary->last_end);  // no end to the rule
  EXPECT_EQ(summary->first_start, Utc("20270315T080000Z"));
  auto in = cal->InstancesIn({Utc("20270320T000000Z"), Utc("20270410T000000Z")});
  ASSERT_EQ(in.size(), 3u);
  EXPECT_EQ(in[0].start, Utc("20270322T080000Z"));  // CET: UTC+1
  EXPECT_EQ(in[1].start, Utc("20270329T070000Z"));  // CEST from 28 March: UTC+2
  EXPECT_EQ(in[2].start, Utc("20270405T070000Z"));
  EXPECT_EQ(in[1].end - in[1].start, 3600);
}

TEST(ICalendar, NewYorkChangesOnAnotherSunday) {
  auto cal = ICalendar::Parse(
      Calendar("BEGIN:VEVENT\r\nUID:ny\r\nDTSTAMP:20270101T000000Z\r\n"
               "DTSTART;TZID=America/New_York:20270308T090000\r\nDURATION:PT30M\r\n"
               "RRULE:FREQ=DAILY;COUNT=10\r\nEND:VEVENT\r\n"));
  ASSERT_TRUE(cal);
  auto summary = cal->Validate();
  ASSERT_TRUE(summary && summary->last_end);
  // 2027-03-14 is the second Sunday of March: EST (UTC-5) before, EDT (UTC-4) after.
  auto in = cal->InstancesIn({Utc("20270313T000000Z"), Utc("20270316T000000Z")});
  ASSERT_EQ(in.size(), 3u);
  EXPECT_EQ(in[0].start, Utc("20270313T140000Z"));
  EXPECT_EQ(in[1].start, Utc("20270314T130000Z"));
  EXPECT_EQ(*summary->last_end, Utc("20270317T133000Z"));  // the 10th: 17 March
}

TEST(ICalendar, ExdateAndOverriddenInstance) {
  auto cal = ICalendar::Parse(Calendar(
      "BEGIN:VEVENT\r\nUID:o\r\nDTSTAMP:20270101T000000Z\r\nDTSTART:20270104T100000Z\r\n"
      "DTEND:20270104T110000Z\r\nRRULE:FREQ=DAILY;COUNT=5\r\nEXDATE:20270105T100000Z\r\n"
      "END:VEVENT\r\n"
      "BEGIN:VEVENT\r\nUID:o\r\nDTSTAMP:20270101T000000Z\r\nRECURRENCE-ID:20270106T100000Z\r\n"
      "DTSTART:20270106T150000Z\r\nDTEND:20270106T160000Z\r\nSUMMARY:moved\r\nEND:VEVENT\r\n"));
  ASSERT_TRUE(cal);
  ASSERT_TRUE(cal->Validate());
  auto in = cal->InstancesIn({Utc("20270101T000000Z"), Utc("20270201T000000Z")});
  ASSERT_EQ(in.size(), 4u);  // 5 minus the excluded one; the 6th moved, not added
  EXPECT_EQ(in[0].start, Utc("20270104T100000Z"));
  EXPECT_EQ(in[1].start, Utc("20270106T150000Z"));
  EXPECT_TRUE(in[1].recurring);
  EXPECT_FALSE(cal->Overlaps({Utc("20270105T000000Z"), Utc("20270105T235959Z")}));
  std::string expanded = cal->Expanded({Utc("20270106T000000Z"), Utc("20270107T000000Z")});
  EXPECT_NE(expanded.find("RECURRENCE-ID:20270106T100000Z"), std::string::npos);
  EXPECT_NE(expanded.find("DTSTART:20270106T150000Z"), std::string::npos);
  EXPECT_EQ(expanded.find("RRULE"), std::string::npos);
}

TEST(ICalendar, AllDayEventCoversItsDay) {
  auto cal = ICalendar::Parse(Calendar(
      "BEGIN:VEVENT\r\nUID:d\r\nDTSTAMP:20270101T000000Z\r\nDTSTART;VALUE=DATE:20270310\r\n"
      "END:VEVENT\r\n"));
  ASSERT_TRUE(cal);
  auto s = cal->Validate();
  ASSERT_TRUE(s && s->last_end);
  EXPECT_EQ(*s->last_end - s->first_start, 86400);
  EXPECT_TRUE(cal->Overlaps({Utc("20270310T120000Z"), Utc("20270310T130000Z")}));
  EXPECT_FALSE(cal->Overlaps({Utc("20270311T000000Z"), Utc("20270312T000000Z")}));
}

TEST(ICalendar, AbsurdRulesAreRefusedAndCostBoundedWork) {
  auto secondly = ICalendar::Parse(
      Calendar("BEGIN:VEVENT\r\nUID:a\r\nDTSTAMP:20270101T000000Z\r\nDTSTART:19000101T000000Z\r\n"
               "RRULE:FREQ=SECONDLY;COUNT=1000000000\r\nEND:VEVENT\r\n"));
  ASSERT_TRUE(secondly);
  auto s = secondly->Validate();
  ASSERT_FALSE(s);  // not stored: no time range could be answered for it
  EXPECT_EQ(s.error().http_status, 403);
  // Expanding it anyway (a REPORT of an object stored before) stops at the bound.
  EXPECT_TRUE(secondly->InstancesIn({Utc("20270101T000000Z"), Utc("20270102T000000Z")}).empty());
  auto huge = ICalendar::Parse(
      Calendar("BEGIN:VEVENT\r\nUID:b\r\nDTSTAMP:20270101T000000Z\r\nDTSTART:20270101T000000Z\r\n"
               "RRULE:FREQ=DAILY;COUNT=200000\r\nEND:VEVENT\r\n"));
  ASSERT_TRUE(huge);
  EXPECT_FALSE(huge->Validate());
  auto backwards = ICalendar::Parse(
      Calendar("BEGIN:VEVENT\r\nUID:c\r\nDTSTART:20270104T110000Z\r\nDTEND:20270104T100000Z\r\n"
               "END:VEVENT\r\n"));
  ASSERT_TRUE(backwards);
  EXPECT_FALSE(backwards->Validate());
  EXPECT_FALSE(ICalendar::Parse(Calendar("BEGIN:VEVENT\r\nUID:d\r\nEND:VTODO\r\n")));
}

TEST(ICalendar, RejectsWhatCalDavForbids) {
  auto unknown_tz = ICalendar::Parse(
      Calendar("BEGIN:VEVENT\r\nUID:x\r\nDTSTAMP:20270101T000000Z\r\n"
               "DTSTART;TZID=Mars/Olympus_Mons:20270101T100000\r\nEND:VEVENT\r\n"));
  ASSERT_TRUE(unknown_tz);
  auto v = unknown_tz->Validate();
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error().errcode, "C:valid-calendar-data");

  auto two_uids = ICalendar::Parse(
      Calendar("BEGIN:VEVENT\r\nUID:a\r\nDTSTART:20270101T100000Z\r\nEND:VEVENT\r\n"
               "BEGIN:VEVENT\r\nUID:b\r\nDTSTART:20270101T100000Z\r\nEND:VEVENT\r\n"));
  ASSERT_TRUE(two_uids);
  EXPECT_FALSE(two_uids->Validate());

  auto method = ICalendar::Parse(
      Calendar("METHOD:REQUEST\r\nBEGIN:VEVENT\r\nUID:a\r\nDTSTART:20270101T100000Z\r\n"
               "END:VEVENT\r\n"));
  ASSERT_TRUE(method);
  EXPECT_FALSE(method->Validate());

  auto mixed = ICalendar::Parse(
      Calendar("BEGIN:VEVENT\r\nUID:a\r\nDTSTART:20270101T100000Z\r\nEND:VEVENT\r\n"
               "BEGIN:VTODO\r\nUID:a\r\nEND:VTODO\r\n"));
  ASSERT_TRUE(mixed);
  EXPECT_FALSE(mixed->Validate());

  // Found by fuzzing: a component kind libical has no name for crashed the error message.
  for (const char* kind : {"X-THING", "VFOO"}) {  // libical: kind X, and kind 0 named NULL
    auto odd = ICalendar::Parse(
        Calendar(std::string("BEGIN:") + kind + "\r\nUID:a\r\nEND:" + kind + "\r\n"));
    ASSERT_TRUE(odd);
    auto r = odd->Validate();
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().errcode, "C:supported-calendar-component");
  }

  EXPECT_FALSE(ICalendar::Parse("hello"));
  EXPECT_FALSE(ICalendar::Parse("BEGIN:VEVENT\r\nUID:a\r\nEND:VEVENT\r\n"));
  EXPECT_FALSE(
      ICalendar::Parse(Calendar("BEGIN:VEVENT\r\nUID:a\r\nnot a property line\r\n"
                                "END:VEVENT\r\n")));
  EXPECT_FALSE(ICalendar::Parse(std::string(kMaxObjectBytes + 1, 'x')));
}

TEST(ICalendar, BusyLeavesOutTransparentAndCancelled) {
  auto cal = ICalendar::Parse(Calendar(
      "BEGIN:VEVENT\r\nUID:b\r\nDTSTAMP:20270101T000000Z\r\nDTSTART:20270104T100000Z\r\n"
      "DTEND:20270104T110000Z\r\nRRULE:FREQ=DAILY;COUNT=3\r\nEND:VEVENT\r\n"
      "BEGIN:VEVENT\r\nUID:b\r\nRECURRENCE-ID:20270105T100000Z\r\nDTSTART:20270105T100000Z\r\n"
      "DTEND:20270105T110000Z\r\nSTATUS:CANCELLED\r\nEND:VEVENT\r\n"));
  ASSERT_TRUE(cal);
  auto busy = cal->BusyIn({Utc("20270101T000000Z"), Utc("20270201T000000Z")});
  ASSERT_EQ(busy.size(), 2u);
  std::string fb = FreeBusyCalendar({Utc("20270101T000000Z"), Utc("20270201T000000Z")}, busy);
  EXPECT_NE(fb.find("FREEBUSY;FBTYPE=BUSY:20270104T100000Z/20270104T110000Z"), std::string::npos);
  EXPECT_EQ(fb.find("20270105T100000Z/"), std::string::npos);
}

TEST(ICalendar, PropertyFilters) {
  auto cal = ICalendar::Parse(
      Calendar("BEGIN:VEVENT\r\nUID:p\r\nDTSTART:20270104T100000Z\r\nSUMMARY:Weekly Sync\r\n"
               "END:VEVENT\r\n"));
  ASSERT_TRUE(cal);
  EXPECT_TRUE(cal->HasProperty("summary"));
  EXPECT_FALSE(cal->HasProperty("LOCATION"));
  EXPECT_TRUE(cal->PropertyContains("SUMMARY", "weekly sync"));
  EXPECT_FALSE(cal->PropertyContains("SUMMARY", "retro"));
}

TEST(ParseUtcDateTime, AcceptsOnlyUtcDateTimes) {
  EXPECT_EQ(ParseUtcDateTime("19700101T000100Z").value(), 60);
  EXPECT_FALSE(ParseUtcDateTime("20270101T000000"));
  EXPECT_FALSE(ParseUtcDateTime("20271301T000000Z"));
  EXPECT_FALSE(ParseUtcDateTime("2027-01-01T00:00:00Z"));
  EXPECT_FALSE(ParseUtcDateTime(""));
  EXPECT_EQ(FormatUtcDateTime(60), "19700101T000100Z");
}

}  // namespace
}  // namespace ruche::cal
