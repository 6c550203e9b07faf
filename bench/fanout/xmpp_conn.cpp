#include "xmpp_conn.hpp"

namespace ruche::bench {
namespace {

// Finds `attr='value'` or `attr="value"`.
size_t FindAttr(std::string_view buf, std::string_view attr, std::string_view value) {
  std::string single = std::string(attr) + "='" + std::string(value) + "'";
  std::string dbl = std::string(attr) + "=\"" + std::string(value) + "\"";
  size_t a = buf.find(single), b = buf.find(dbl);
  return a < b ? a : b;
}

}  // namespace

std::string Base64(std::string_view in) {
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    unsigned v = (static_cast<unsigned char>(in[i]) << 16) |
                 (static_cast<unsigned char>(in[i + 1]) << 8) |
                 static_cast<unsigned char>(in[i + 2]);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (i + 1 == in.size()) {
    unsigned v = static_cast<unsigned char>(in[i]) << 16;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    unsigned v =
        (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

XmppConn::XmppConn(std::string user, std::string password, std::string domain, std::string room,
                   bool owner, std::function<void()> joined, DeliveryFn delivered)
    : user_(std::move(user)),
      password_(std::move(password)),
      domain_(std::move(domain)),
      room_(std::move(room)),
      owner_(owner),
      joined_(std::move(joined)),
      delivered_(delivered) {}

void XmppConn::Begin() { OpenStream(); }

void XmppConn::OpenStream() {
  Write(
      "<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
      "xmlns:stream='http://etherx.jabber.org/streams' to='" +
      domain_ + "' version='1.0'>");
}

size_t XmppConn::IqReply(std::string_view id) {
  size_t at = FindAttr(in_, "id", id);
  if (at == std::string::npos) {
    return std::string::npos;
  }
  size_t start = in_.rfind('<', at);
  size_t end = in_.find('>', at);
  if (end == std::string::npos) {
    return std::string::npos;
  }
  std::string_view tag(in_.data() + start, end - start);
  if (FindAttr(tag, "type", "result") == std::string::npos) {
    Fatal("xmpp: " + user_ + ": " + std::string(id) + " failed: " + in_.substr(start, 400));
  }
  return end + 1;
}

void XmppConn::OnData() {
  while (state_ != State::kCounting && Step()) {
  }
  if (state_ == State::kCounting) {
    Count();
  }
}

bool XmppConn::Step() {
  size_t end = std::string::npos;
  switch (state_) {
    case State::kFeatures:
    case State::kFeatures2: {
      size_t p = in_.find("</stream:features>");
      if (p == std::string::npos) {
        return false;
      }
      end = p + 18;
      if (state_ == State::kFeatures) {
        // XEP-0077 §3.1: register before authenticating.
        Write("<iq type='set' id='reg'><query xmlns='jabber:iq:register'><username>" + user_ +
              "</username><password>" + password_ + "</password></query></iq>");
        state_ = State::kRegister;
      } else {
        Write(
            "<iq type='set' id='bind'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>"
            "<resource>bench</resource></bind></iq>");
        state_ = State::kBind;
      }
      break;
    }
    case State::kRegister:
      if ((end = IqReply("reg")) == std::string::npos) {
        return false;
      }
      // RFC 4616: authzid NUL authcid NUL passwd.
      Write("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>" +
            Base64(std::string(1, '\0') + user_ + std::string(1, '\0') + password_) + "</auth>");
      state_ = State::kAuth;
      break;
    case State::kAuth: {
      if (in_.find("<failure") != std::string::npos) {
        Fatal("xmpp: " + user_ + ": SASL failed: " + in_.substr(0, 400));
      }
      size_t p = in_.find("<success");
      if (p == std::string::npos || in_.find('>', p) == std::string::npos) {
        return false;
      }
      end = in_.find('>', p) + 1;
      OpenStream();  // RFC 6120 §6.4.6: a new stream after SASL success
      state_ = State::kFeatures2;
      break;
    }
    case State::kBind:
      if ((end = IqReply("bind")) == std::string::npos) {
        return false;
      }
      Write("<iq type='set' id='sess'><session xmlns='urn:ietf:params:xml:ns:xmpp-session'/></iq>");
      state_ = State::kSession;
      break;
    case State::kSession:
      if ((end = IqReply("sess")) == std::string::npos) {
        return false;
      }
      Write("<presence to='" + room_ + "/" + user_ +
            "'><x xmlns='http://jabber.org/protocol/muc'><history maxstanzas='0'/></x></presence>");
      state_ = State::kJoin;
      break;
    case State::kJoin: {
      // XEP-0045 §7.2.3: the member's own presence carries status code 110, after the others'.
      size_t p = FindAttr(in_, "code", "110");
      if (p == std::string::npos) {
        if (in_.find("type='error'") != std::string::npos) {
          Fatal("xmpp: " + user_ + ": join failed: " + in_.substr(0, 600));
        }
        return false;
      }
      size_t close = in_.find("</presence>", p);
      if (close == std::string::npos) {
        return false;
      }
      end = close + 11;
      if (owner_) {
        // XEP-0045 §10.1.2: accept the default configuration (an instant room).
        Write("<iq type='set' id='cfg' to='" + room_ +
              "'><query xmlns='http://jabber.org/protocol/muc#owner'><x xmlns='jabber:x:data' "
              "type='submit'/></query></iq>");
        state_ = State::kConfig;
      } else {
        state_ = State::kCounting;
        joined_();
      }
      break;
    }
    case State::kConfig:
      if ((end = IqReply("cfg")) == std::string::npos) {
        return false;
      }
      state_ = State::kCounting;
      joined_();
      break;
    case State::kCounting:
      return false;
  }
  in_.erase(0, end);
  return true;
}

void XmppConn::Count() {
  if (delivered_ == nullptr) {  // the sender does not count its own echoes
    in_.clear();
    return;
  }
  static constexpr std::string_view kBody = "<body>bench ";
  int64_t now = NowUs();
  size_t keep_from = in_.size() > kBody.size() ? in_.size() - kBody.size() : 0;
  for (size_t p = in_.find(kBody); p != std::string::npos; p = in_.find(kBody, p + 1)) {
    size_t close = in_.find("</body>", p);
    if (close == std::string::npos) {
      keep_from = p;  // the rest of this body is still on its way
      break;
    }
    delivered_(std::string_view(in_.data(), close), p + kBody.size(), now);
  }
  in_.erase(0, keep_from);
}

}  // namespace ruche::bench
