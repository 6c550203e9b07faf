#pragma once
// The words of booking e-mails in French, English and Spanish, and dates written the way each
// language writes them ("lundi 29 mars 2027 à 09:00", "Monday 29 March 2027 at 09:00",
// "lunes 29 de marzo de 2027, 09:00"), in the reader's time zone.
#include <string>
#include <string_view>

#include "cal/time_zones.hpp"

namespace ruche::cal {

enum class MailKind {
  kConfirmed,
  kPending,
  kRescheduled,
  kCancelled,
  kOwnerNew,
  kOwnerCancelled,
  kInvitation,  // an event's attendees (the calendar's invitations, not bookings)
  kInvitationUpdated,
  kInvitationCancelled,
};

struct BookingMailText {
  std::string subject;
  std::string body;
};

struct BookingMailFacts {
  std::string language;  // "fr", "en", "es" (anything else: "en")
  std::string title;
  std::string visitor_name;
  int64_t start = 0;
  const TimeZone* zone = nullptr;  // the reader's
  std::string where;               // address or join link
  std::string manage_url;          // cancel / reschedule page (visitor mails)
  std::string notes;
};

BookingMailText ComposeBookingMail(MailKind kind, const BookingMailFacts& facts);

// "lundi 29 mars 2027 à 09:00 (Europe/Paris)".
std::string FormatWhen(std::string_view language, int64_t utc, const TimeZone& zone);

}  // namespace ruche::cal
