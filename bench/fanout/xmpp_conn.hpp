#pragma once
// The least XMPP a MUC member needs (RFC 6120/6121, XEP-0077, XEP-0045), over Conn, no TLS (the
// peer runs on loopback): stream open, in-band registration, SASL PLAIN, stream restart, bind,
// session, join the room with presence; then count the groupchat bodies that arrive. Stanzas
// are recognised by substrings, which is enough for the one server this talks to.
#include <functional>
#include <string>
#include <string_view>

#include "loop.hpp"

namespace ruche::bench {

class XmppConn : public Conn {
 public:
  using DeliveryFn = void (*)(std::string_view text, size_t pos, int64_t now);

  // `owner`: first in the room, unlocks it with an instant configuration. `joined` runs once
  // the member's own presence comes back from the room; after that, every "<body>bench ..."
  // that arrives goes to `delivered`.
  XmppConn(std::string user, std::string password, std::string domain, std::string room, bool owner,
           std::function<void()> joined, DeliveryFn delivered);
  void Begin();

 private:
  enum class State {
    kFeatures,
    kRegister,
    kAuth,
    kFeatures2,
    kBind,
    kSession,
    kJoin,
    kConfig,
    kCounting
  };
  void OnData() override;
  bool Step();  // consumes one expected reply; false when it has not arrived yet
  void OpenStream();
  // Finds `<tag ... id='id'...>` and checks its type is result; returns the end of the tag.
  size_t IqReply(std::string_view id);
  void Count();

  std::string user_, password_, domain_, room_;
  bool owner_;
  std::function<void()> joined_;
  DeliveryFn delivered_;
  State state_ = State::kFeatures;
};

std::string Base64(std::string_view in);

}  // namespace ruche::bench
