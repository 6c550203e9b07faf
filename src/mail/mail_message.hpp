#pragma once
// Composing e-mail (RFC 5322, MIME RFC 2045-2047): a plain-text body and, for invitations, an
// iCalendar part with its iTIP method (iMIP, RFC 6047). Header values are stripped of CR/LF, so
// nothing a visitor typed can add a header.
#include <optional>
#include <string>
#include <string_view>

namespace ruche::mail {

struct Mailbox {
  std::string name;     // display name, may be empty
  std::string address;  // local@domain
};

struct MailContent {
  Mailbox from;
  Mailbox to;
  std::string subject;
  std::string text;  // UTF-8
  // An iCalendar object with a METHOD (REQUEST, CANCEL): sent inline as
  // text/calendar; method=… (what mail clients show as an invitation) and as invite.ics.
  std::optional<std::string> calendar;
  std::string calendar_method;
};

// A syntactically plausible address: one '@', no spaces or control characters, at most 254
// bytes (RFC 5321 §4.5.3.1.3). Not a promise the mailbox exists.
bool IsPlausibleAddress(std::string_view address);

// The whole message, CRLF line ends, ready for SMTP DATA (before dot-stuffing).
// `message_id_domain` names this server in the Message-ID.
std::string ComposeMessage(const MailContent& content, std::string_view message_id_domain);

}  // namespace ruche::mail
