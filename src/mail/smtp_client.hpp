#pragma once
// One SMTP session (RFC 5321) to the configured relay: EHLO, STARTTLS when offered (RFC 3207;
// required or refused by configuration), AUTH PLAIN when credentials are set (RFC 4954), one
// message to its recipients, QUIT. The whole session has one deadline.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <string>
#include <vector>

#include "core/error.hpp"

namespace ruche::mail {

enum class TlsMode { kNone, kOpportunistic, kRequired };

struct SmtpSettings {
  std::string host;
  int port = 25;
  TlsMode tls = TlsMode::kOpportunistic;
  bool verify_certificate = true;
  std::string username;
  std::string password;
  std::string helo_name = "localhost";
  int64_t timeout_ms = 60'000;
};

// errcode M_MAIL_PERMANENT for a 5xx answer (retrying will not help), M_MAIL_TEMPORARY for a 4xx
// answer, a network error or the deadline.
boost::asio::awaitable<Result<void>> SendMail(const SmtpSettings& settings,
                                              const std::string& sender,
                                              const std::vector<std::string>& recipients,
                                              const std::string& message);

// Dot-stuffing for DATA (RFC 5321 §4.5.2), with bare LF turned into CRLF.
std::string DotStuff(std::string_view message);

}  // namespace ruche::mail
