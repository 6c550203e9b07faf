#include "cal/dav_xml.hpp"

#include <gtest/gtest.h>

#include "cal/calendar_query.hpp"
#include "cal/dav_path.hpp"
#include "cal/dav_properties.hpp"

namespace ruche::cal {
namespace {

TEST(DavXml, ParsesNamespacesAndAttributes) {
  auto e = ParseXml(
      R"(<?xml version="1.0"?><c:calendar-query xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav">
         <d:prop><d:getetag/><x:odd xmlns:x="urn:x">v</x:odd></d:prop>
         <c:filter><c:comp-filter name="VCALENDAR"><c:comp-filter name="VEVENT">
           <c:time-range start="20270101T000000Z" end="20270201T000000Z"/>
           <c:prop-filter name="SUMMARY"><c:text-match negate-condition="yes">x</c:text-match></c:prop-filter>
         </c:comp-filter></c:comp-filter></c:filter></c:calendar-query>)");
  ASSERT_TRUE(e) << e.error().message;
  EXPECT_TRUE(e->Is(kCalDavNs, "calendar-query"));
  auto props = ReadPropRequest(&*e);
  ASSERT_TRUE(props);
  ASSERT_EQ(props->props.size(), 2u);
  EXPECT_EQ(props->props[1].first, "urn:x");
  auto filter = ReadCalendarFilter(e->Child(kCalDavNs, "filter"));
  ASSERT_TRUE(filter);
  EXPECT_EQ(filter->component, "VEVENT");
  ASSERT_TRUE(filter->range);
  EXPECT_EQ(filter->range->end - filter->range->start, 31 * 86400);
  ASSERT_EQ(filter->props.size(), 1u);
  EXPECT_TRUE(filter->props[0].negate);
}

TEST(DavXml, RefusesDoctypeEntitiesDepthAndJunk) {
  auto laughs = ParseXml(
      R"(<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;">]><d:propfind xmlns:d="DAV:">&b;</d:propfind>)");
  ASSERT_FALSE(laughs);
  EXPECT_EQ(laughs.error().http_status, 400);
  auto external = ParseXml(R"(<?xml version="1.0"?><!DOCTYPE d SYSTEM "file:///etc/passwd"><d/>)");
  EXPECT_FALSE(external);
  std::string deep;
  for (int i = 0; i < 100; ++i) {
    deep += "<a>";
  }
  for (int i = 0; i < 100; ++i) {
    deep += "</a>";
  }
  EXPECT_FALSE(ParseXml(deep));
  EXPECT_FALSE(ParseXml("<a><b></a>"));
  EXPECT_FALSE(ParseXml(""));
  XmlLimits small;
  small.max_elements = 10;
  std::string wide = "<a>";
  for (int i = 0; i < 20; ++i) {
    wide += "<b/>";
  }
  wide += "</a>";
  EXPECT_FALSE(ParseXml(wide, small));
  EXPECT_TRUE(ParseXml(wide));
}

TEST(DavXml, FragmentsRoundTrip) {
  auto e =
      ParseXml(R"(<p:x xmlns:p="urn:p" a="1&amp;2"><q:y xmlns:q="urn:q">t &lt; u</q:y></p:x>)");
  ASSERT_TRUE(e);
  std::string frag = SerializeFragment(*e);
  auto again = ParseXml(frag);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->ns, "urn:p");
  EXPECT_EQ(again->Attribute("a"), "1&2");
  ASSERT_EQ(again->children.size(), 1u);
  EXPECT_EQ(again->children[0].ns, "urn:q");
  EXPECT_EQ(again->children[0].text, "t < u");
}

TEST(DavXml, WriterEscapes) {
  XmlWriter w;
  w.Root(kDavNs, "multistatus").Element(kDavNs, "href", "/a&b<c>\r\n").Empty("urn:z", "z");
  std::string out = w.Finish();
  EXPECT_NE(out.find("<d:href>/a&amp;b&lt;c&gt;&#13;\n</d:href>"), std::string::npos);
  EXPECT_NE(out.find("<z xmlns=\"urn:z\"/>"), std::string::npos);
  EXPECT_TRUE(ParseXml(out));
}

TEST(DavXml, RejectsBadFilters) {
  auto no_vcal = ParseXml(
      R"(<c:filter xmlns:c="urn:ietf:params:xml:ns:caldav"><c:comp-filter name="VEVENT"/></c:filter>)");
  ASSERT_TRUE(no_vcal);
  EXPECT_FALSE(ReadCalendarFilter(&*no_vcal));
  auto backwards = ParseXml(
      R"(<c:filter xmlns:c="urn:ietf:params:xml:ns:caldav"><c:comp-filter name="VCALENDAR"><c:comp-filter name="VEVENT"><c:time-range start="20270201T000000Z" end="20270101T000000Z"/></c:comp-filter></c:comp-filter></c:filter>)");
  ASSERT_TRUE(backwards);
  EXPECT_FALSE(ReadCalendarFilter(&*backwards));
}

TEST(DavPath, ParsesTheUrlSpace) {
  auto o = ParseDavPath("/dav/calendars/alice/work%20stuff/ev%401.ics");
  ASSERT_TRUE(o);
  EXPECT_EQ(o->kind, DavTarget::Kind::kObject);
  EXPECT_EQ(o->calendar, "work stuff");
  EXPECT_EQ(o->object, "ev@1.ics");
  EXPECT_EQ(o->Href(), "/dav/calendars/alice/work%20stuff/ev@1.ics");
  auto full = ParseDavPath("https://example.org/dav/calendars/alice/personal/");
  ASSERT_TRUE(full);
  EXPECT_EQ(full->kind, DavTarget::Kind::kCalendar);
  EXPECT_EQ(ParseDavPath("/dav/")->kind, DavTarget::Kind::kRoot);
  EXPECT_EQ(ParseDavPath("/dav/principals/bob/")->kind, DavTarget::Kind::kPrincipal);
  EXPECT_FALSE(ParseDavPath("/dav/calendars/alice/../bob/"));
  EXPECT_FALSE(ParseDavPath("/dav/calendars/alice/%2e%2e/"));
  EXPECT_FALSE(ParseDavPath("/dav/calendars/a/b/c/d"));
  EXPECT_FALSE(ParseDavPath("/dav/calendars/a/%00/"));
  EXPECT_FALSE(ParseDavPath("/other/"));
}

TEST(DavProperties, SyncTokensBelongToTheirCalendar) {
  Calendar cal;
  cal.id = 7;
  cal.created_ts = 1000;
  std::string t = SyncToken(cal, 42);
  EXPECT_EQ(ParseSyncToken(t, cal), 42);
  Calendar other = cal;
  other.id = 8;
  EXPECT_FALSE(ParseSyncToken(t, other));
  Calendar reborn = cal;  // deleted and made again: same id, another creation time
  reborn.created_ts = 2000;
  EXPECT_FALSE(ParseSyncToken(t, reborn));
  EXPECT_FALSE(ParseSyncToken("https://ruche.invalid/ns/sync/7.1000-x", cal));
  EXPECT_FALSE(ParseSyncToken("", cal));
}

}  // namespace
}  // namespace ruche::cal
