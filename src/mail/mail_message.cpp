#include "mail/mail_message.hpp"

#include <sodium.h>

#include <ctime>

#include "core/crypto.hpp"

namespace ruche::mail {
namespace {

std::string OneLine(std::string_view v) {
  std::string out;
  for (char c : v) {
    out += (c == '\r' || c == '\n') ? ' ' : c;
  }
  return out;
}

bool IsAscii(std::string_view v) {
  for (unsigned char c : v) {
    if (c >= 0x80) {
      return false;
    }
  }
  return true;
}

std::string Base64(std::string_view data) {
  std::string out(sodium_base64_ENCODED_LEN(data.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(data.data()),
                    data.size(), sodium_base64_VARIANT_ORIGINAL);
  out.resize(out.size() - 1);  // the terminating NUL
  return out;
}

// Base64 in lines of 76 characters (RFC 2045 §6.8).
std::string Base64Lines(std::string_view data) {
  std::string b = Base64(data);
  std::string out;
  for (size_t i = 0; i < b.size(); i += 76) {
    out += b.substr(i, 76);
    out += "\r\n";
  }
  return out;
}

// RFC 2047 encoded-word when the text is not plain ASCII.
std::string EncodeWord(std::string_view text) {
  std::string one = OneLine(text);
  if (IsAscii(one)) {
    return one;
  }
  return "=?UTF-8?B?" + Base64(one) + "?=";
}

std::string FormatMailbox(const Mailbox& m) {
  std::string address = OneLine(m.address);
  if (m.name.empty()) {
    return "<" + address + ">";
  }
  std::string name = OneLine(m.name);
  if (IsAscii(name)) {
    std::string quoted = "\"";
    for (char c : name) {
      if (c == '"' || c == '\\') {
        quoted += '\\';
      }
      quoted += c;
    }
    return quoted + "\" <" + address + ">";
  }
  return EncodeWord(name) + " <" + address + ">";
}

std::string RfcDate() {
  time_t now = time(nullptr);
  struct tm tm {};
  gmtime_r(&now, &tm);
  char buf[64];
  strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S +0000", &tm);
  return buf;
}

}  // namespace

bool IsPlausibleAddress(std::string_view a) {
  if (a.empty() || a.size() > 254) {
    return false;
  }
  size_t at = a.find('@');
  if (at == 0 || at == std::string_view::npos || at + 1 >= a.size() ||
      a.find('@', at + 1) != std::string_view::npos) {
    return false;
  }
  for (unsigned char c : a) {
    if (c <= 0x20 || c == 0x7f || c == '<' || c == '>' || c == ',' || c == '"' || c == '\\') {
      return false;
    }
  }
  return a.find('.', at) != std::string_view::npos;
}

std::string ComposeMessage(const MailContent& c, std::string_view message_id_domain) {
  std::string boundary = "ruche-" + core::RandomToken(12);
  std::string m;
  m += "From: " + FormatMailbox(c.from) + "\r\n";
  m += "To: " + FormatMailbox(c.to) + "\r\n";
  m += "Subject: " + EncodeWord(c.subject) + "\r\n";
  m += "Date: " + RfcDate() + "\r\n";
  m += "Message-ID: <" + core::RandomToken(16) + "@" + OneLine(message_id_domain) + ">\r\n";
  m += "MIME-Version: 1.0\r\n";
  m += "Auto-Submitted: auto-generated\r\n";
  if (!c.calendar) {
    m += "Content-Type: text/plain; charset=UTF-8\r\n";
    m += "Content-Transfer-Encoding: base64\r\n\r\n";
    m += Base64Lines(c.text);
    return m;
  }
  std::string method = OneLine(c.calendar_method);
  m += "Content-Type: multipart/mixed; boundary=\"" + boundary + "\"\r\n\r\n";
  m += "--" + boundary + "\r\n";
  m += "Content-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: base64\r\n\r\n";
  m += Base64Lines(c.text);
  m += "--" + boundary + "\r\n";
  m += "Content-Type: text/calendar; charset=UTF-8; method=" + method + "\r\n";
  m += "Content-Transfer-Encoding: base64\r\n\r\n";
  m += Base64Lines(*c.calendar);
  m += "--" + boundary + "\r\n";
  m += "Content-Type: application/ics; name=\"invite.ics\"\r\n";
  m += "Content-Disposition: attachment; filename=\"invite.ics\"\r\n";
  m += "Content-Transfer-Encoding: base64\r\n\r\n";
  m += Base64Lines(*c.calendar);
  m += "--" + boundary + "--\r\n";
  return m;
}

}  // namespace ruche::mail
