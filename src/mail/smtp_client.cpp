#include "mail/smtp_client.hpp"

#include <sodium.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <memory>

namespace ruche::mail {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;

Error Temporary(std::string message) { return Error(503, "M_MAIL_TEMPORARY", std::move(message)); }

struct Reply {
  int code = 0;
  std::string text;  // every line, for errors and the EHLO keywords
};

// The connection before and after STARTTLS.
class Channel {
 public:
  explicit Channel(asio::any_io_executor ex) : socket_(ex) {}

  tcp::socket& socket() { return socket_; }

  asio::awaitable<bool> StartTls(const SmtpSettings& s) {
    ctx_ = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_client);
    ctx_->set_default_verify_paths();
    ctx_->set_verify_mode(s.verify_certificate ? asio::ssl::verify_peer : asio::ssl::verify_none);
    tls_ = std::make_unique<asio::ssl::stream<tcp::socket&>>(socket_, *ctx_);
    if (s.verify_certificate) {
      tls_->set_verify_callback(asio::ssl::host_name_verification(s.host));
    }
    SSL_set_tlsext_host_name(tls_->native_handle(), s.host.c_str());
    boost::system::error_code ec;
    co_await tls_->async_handshake(asio::ssl::stream_base::client,
                                   asio::redirect_error(asio::use_awaitable, ec));
    co_return !ec;
  }

  asio::awaitable<bool> Write(const std::string& data) {
    boost::system::error_code ec;
    if (tls_) {
      co_await asio::async_write(*tls_, asio::buffer(data),
                                 asio::redirect_error(asio::use_awaitable, ec));
    } else {
      co_await asio::async_write(socket_, asio::buffer(data),
                                 asio::redirect_error(asio::use_awaitable, ec));
    }
    co_return !ec;
  }

  // Reads one (possibly multi-line) reply; code 0 on failure.
  asio::awaitable<Reply> Read() {
    Reply reply;
    for (int lines = 0; lines < 100; ++lines) {
      boost::system::error_code ec;
      size_t n = 0;
      auto buf = asio::dynamic_buffer(buffer_, 64 * 1024);
      if (tls_) {
        n = co_await asio::async_read_until(*tls_, buf, "\r\n",
                                            asio::redirect_error(asio::use_awaitable, ec));
      } else {
        n = co_await asio::async_read_until(socket_, buf, "\r\n",
                                            asio::redirect_error(asio::use_awaitable, ec));
      }
      if (ec || n < 5) {
        co_return Reply{};
      }
      std::string line = buffer_.substr(0, n - 2);
      buffer_.erase(0, n);
      if (line.size() < 3 || !isdigit(line[0]) || !isdigit(line[1]) || !isdigit(line[2])) {
        co_return Reply{};
      }
      reply.code = std::stoi(line.substr(0, 3));
      reply.text += line + "\n";
      if (line.size() == 3 || line[3] != '-') {
        co_return reply;
      }
    }
    co_return Reply{};
  }

 private:
  tcp::socket socket_;
  std::unique_ptr<asio::ssl::context> ctx_;
  std::unique_ptr<asio::ssl::stream<tcp::socket&>> tls_;
  std::string buffer_;
};

Error FromReply(const std::string& step, const Reply& r) {
  if (r.code == 0) {
    return Temporary("SMTP " + step + ": connection lost or malformed reply");
  }
  std::string msg = "SMTP " + step + ": " + r.text;
  if (r.code >= 500) {
    return Error(502, "M_MAIL_PERMANENT", msg);
  }
  return Temporary(msg);
}

bool HasKeyword(const Reply& ehlo, std::string_view keyword) {
  // Lines "250-STARTTLS", "250 AUTH PLAIN LOGIN": the keyword follows the code and separator.
  size_t pos = 0;
  while (pos < ehlo.text.size()) {
    size_t end = ehlo.text.find('\n', pos);
    std::string_view line = std::string_view(ehlo.text).substr(pos, end - pos);
    if (line.size() > 4) {
      std::string_view kw = line.substr(4);
      if (kw.size() >= keyword.size() &&
          std::equal(keyword.begin(), keyword.end(), kw.begin(),
                     [](char a, char b) { return std::toupper(a) == std::toupper(b); }) &&
          (kw.size() == keyword.size() || kw[keyword.size()] == ' ')) {
        return true;
      }
    }
    pos = end == std::string::npos ? ehlo.text.size() : end + 1;
  }
  return false;
}

asio::awaitable<Result<void>> Session(Channel& ch, const SmtpSettings& s, const std::string& sender,
                                      const std::vector<std::string>& recipients,
                                      const std::string& message) {
  Reply greeting = co_await ch.Read();
  if (greeting.code != 220) {
    co_return FromReply("greeting", greeting);
  }
  std::string ehlo_cmd = "EHLO " + s.helo_name + "\r\n";
  if (!co_await ch.Write(ehlo_cmd)) {
    co_return Temporary("SMTP: write failed");
  }
  Reply ehlo = co_await ch.Read();
  if (ehlo.code != 250) {
    co_return FromReply("EHLO", ehlo);
  }
  if (s.tls != TlsMode::kNone && HasKeyword(ehlo, "STARTTLS")) {
    std::string starttls = "STARTTLS\r\n";
    if (!co_await ch.Write(starttls)) {
      co_return Temporary("SMTP: write failed");
    }
    Reply ready = co_await ch.Read();
    if (ready.code != 220) {
      co_return FromReply("STARTTLS", ready);
    }
    if (!co_await ch.StartTls(s)) {
      co_return Temporary("SMTP: TLS handshake with the relay failed");
    }
    if (!co_await ch.Write(ehlo_cmd)) {
      co_return Temporary("SMTP: write failed");
    }
    ehlo = co_await ch.Read();
    if (ehlo.code != 250) {
      co_return FromReply("EHLO", ehlo);
    }
  } else if (s.tls == TlsMode::kRequired) {
    co_return Temporary("SMTP: the relay does not offer STARTTLS and mail.tls is required");
  }
  if (!s.username.empty()) {
    std::string plain;
    plain += '\0';
    plain += s.username;
    plain += '\0';
    plain += s.password;
    std::string encoded(sodium_base64_ENCODED_LEN(plain.size(), sodium_base64_VARIANT_ORIGINAL),
                        '\0');
    sodium_bin2base64(encoded.data(), encoded.size(),
                      reinterpret_cast<const unsigned char*>(plain.data()), plain.size(),
                      sodium_base64_VARIANT_ORIGINAL);
    encoded.resize(encoded.size() - 1);
    std::string auth = "AUTH PLAIN " + encoded + "\r\n";
    if (!co_await ch.Write(auth)) {
      co_return Temporary("SMTP: write failed");
    }
    Reply authed = co_await ch.Read();
    if (authed.code != 235) {
      co_return FromReply("AUTH", authed);
    }
  }
  std::string from = "MAIL FROM:<" + sender + ">\r\n";
  if (!co_await ch.Write(from)) {
    co_return Temporary("SMTP: write failed");
  }
  Reply mail_from = co_await ch.Read();
  if (mail_from.code != 250) {
    co_return FromReply("MAIL FROM", mail_from);
  }
  for (const auto& r : recipients) {
    std::string rcpt = "RCPT TO:<" + r + ">\r\n";
    if (!co_await ch.Write(rcpt)) {
      co_return Temporary("SMTP: write failed");
    }
    Reply ok = co_await ch.Read();
    if (ok.code != 250 && ok.code != 251) {
      co_return FromReply("RCPT TO", ok);
    }
  }
  std::string data_cmd = "DATA\r\n";
  if (!co_await ch.Write(data_cmd)) {
    co_return Temporary("SMTP: write failed");
  }
  Reply go = co_await ch.Read();
  if (go.code != 354) {
    co_return FromReply("DATA", go);
  }
  std::string body = DotStuff(message) + ".\r\n";
  if (!co_await ch.Write(body)) {
    co_return Temporary("SMTP: write failed");
  }
  Reply accepted = co_await ch.Read();
  if (accepted.code != 250) {
    co_return FromReply("end of DATA", accepted);
  }
  std::string quit = "QUIT\r\n";
  co_await ch.Write(quit);  // the message is accepted: the answer to QUIT does not matter
  co_return Ok();
}

}  // namespace

std::string DotStuff(std::string_view message) {
  std::string out;
  out.reserve(message.size() + 64);
  bool line_start = true;
  for (size_t i = 0; i < message.size(); ++i) {
    char c = message[i];
    if (line_start && c == '.') {
      out += '.';
    }
    if (c == '\n' && (i == 0 || message[i - 1] != '\r')) {
      out += '\r';
    }
    out += c;
    line_start = c == '\n';
  }
  if (!out.ends_with("\r\n")) {
    out += "\r\n";
  }
  return out;
}

asio::awaitable<Result<void>> SendMail(const SmtpSettings& s, const std::string& sender,
                                       const std::vector<std::string>& recipients,
                                       const std::string& message) {
  auto ex = co_await asio::this_coro::executor;
  Channel ch(ex);
  // One deadline for the whole session: when it passes, the socket closes and every pending
  // operation fails.
  auto deadline = std::make_shared<asio::steady_timer>(ex);
  deadline->expires_after(std::chrono::milliseconds(s.timeout_ms));
  deadline->async_wait([&ch](boost::system::error_code ec) {
    if (!ec) {
      boost::system::error_code ignored;
      ch.socket().close(ignored);
    }
  });
  tcp::resolver resolver(ex);
  boost::system::error_code ec;
  std::string port = std::to_string(s.port);  // named: no temporaries in co_await (gcc 12)
  auto endpoints =
      co_await resolver.async_resolve(s.host, port, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    deadline->cancel();
    co_return Temporary("SMTP: cannot resolve " + s.host + ": " + ec.message());
  }
  co_await asio::async_connect(ch.socket(), endpoints,
                               asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    deadline->cancel();
    co_return Temporary("SMTP: cannot connect to " + s.host + ": " + ec.message());
  }
  auto result = co_await Session(ch, s, sender, recipients, message);
  deadline->cancel();
  boost::system::error_code ignored;
  ch.socket().close(ignored);
  co_return result;
}

}  // namespace ruche::mail
