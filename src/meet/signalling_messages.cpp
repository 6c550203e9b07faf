#include "meet/signalling_messages.hpp"

#include "core/json.hpp"

namespace ruche::meet {
namespace {

namespace json = core::json;

Error Invalid(std::string message) { return Error::BadRequest(message, "M_INVALID_PARAM"); }

// Leading and trailing white space removed; none of the C0 controls inside.
std::optional<std::string> CleanDisplayName(std::string_view name) {
  while (!name.empty() && (name.front() == ' ' || name.front() == '\t')) {
    name.remove_prefix(1);
  }
  while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) {
    name.remove_suffix(1);
  }
  if (name.empty() || name.size() > kMaxDisplayName * 4) {
    return std::nullopt;
  }
  size_t code_points = 0;
  for (unsigned char c : name) {
    if (c < 0x20 || c == 0x7f) {
      return std::nullopt;
    }
    code_points += (c & 0xC0) != 0x80;
  }
  if (code_points > kMaxDisplayName) {
    return std::nullopt;
  }
  return std::string(name);
}

Result<std::string> RequireSdp(const json::object& obj) {
  auto sdp = core::RequireString(obj, "sdp");
  if (!sdp) {
    return sdp.error();
  }
  if (sdp->empty() || sdp->size() > kMaxSdp) {
    return Invalid("sdp must be 1 byte to 256 KiB");
  }
  return std::string(*sdp);
}

Result<std::vector<std::string>> RequireIds(const json::object& obj) {
  const json::value* v = obj.if_contains("producer_ids");
  if (v == nullptr || !v->is_array()) {
    return Error::BadRequest("producer_ids must be an array of strings");
  }
  const json::array& a = v->get_array();
  if (a.size() > kMaxProducerIdsPerMessage) {
    return Invalid("at most 500 producer_ids per message");
  }
  std::vector<std::string> out;
  out.reserve(a.size());
  for (const auto& id : a) {
    if (!id.is_string() || id.get_string().empty() || id.get_string().size() > 64) {
      return Error::BadRequest("producer_ids must be an array of strings");
    }
    out.emplace_back(id.get_string());
  }
  return out;
}

}  // namespace

Result<ClientMessage> ParseClientMessage(std::string_view text) {
  auto parsed = core::ParseJsonObject(text);
  if (!parsed) {
    return parsed.error();
  }
  const json::object& obj = *parsed;
  auto type = core::RequireString(obj, "type");
  if (!type) {
    return type.error();
  }
  ClientMessage m;
  if (*type == "join") {
    m.type = ClientMessage::Type::kJoin;
    auto key = core::RequireString(obj, "key");
    if (!key) {
      return key.error();
    }
    if (key->empty() || key->size() > 128) {
      return Invalid("key must be 1 to 128 characters");
    }
    m.key = std::string(*key);
    auto token = core::OptString(obj, "access_token");
    auto name = core::OptString(obj, "display_name");
    if (!token) {
      return token.error();
    }
    if (!name) {
      return name.error();
    }
    if (*token) {
      m.access_token = std::string(**token);
    }
    if (*name) {
      m.display_name = CleanDisplayName(**name);
      if (!m.display_name) {
        return Invalid("display_name must be 1 to 64 characters, without control characters");
      }
    }
    if (!m.access_token && !m.display_name) {
      return Invalid("join needs an access_token or a display_name");
    }
  } else if (*type == "publish" || *type == "subscribe_answer") {
    m.type =
        *type == "publish" ? ClientMessage::Type::kPublish : ClientMessage::Type::kSubscribeAnswer;
    auto sdp = RequireSdp(obj);
    if (!sdp) {
      return sdp.error();
    }
    m.sdp = std::move(*sdp);
  } else if (*type == "subscribe" || *type == "unsubscribe") {
    m.type =
        *type == "subscribe" ? ClientMessage::Type::kSubscribe : ClientMessage::Type::kUnsubscribe;
    auto ids = RequireIds(obj);
    if (!ids) {
      return ids.error();
    }
    m.producer_ids = std::move(*ids);
  } else if (*type == "preferred_layer") {
    m.type = ClientMessage::Type::kPreferredLayer;
    auto id = core::RequireString(obj, "producer_id");
    if (!id) {
      return id.error();
    }
    m.producer_id = std::string(*id);
    const json::value* layer = obj.if_contains("spatial_layer");
    if (layer == nullptr || !layer->is_int64() || layer->get_int64() < 0 ||
        layer->get_int64() > 2) {
      return Invalid("spatial_layer must be 0, 1 or 2");
    }
    m.spatial_layer = static_cast<int>(layer->get_int64());
  } else if (*type == "mute") {
    m.type = ClientMessage::Type::kMute;
    auto audio = core::OptBool(obj, "audio");
    auto video = core::OptBool(obj, "video");
    if (!audio || !video || !*audio || !*video) {
      return Error::BadRequest("mute needs booleans audio and video");
    }
    m.audio_muted = **audio;
    m.video_muted = **video;
  } else if (*type == "leave") {
    m.type = ClientMessage::Type::kLeave;
  } else {
    return Error::Unrecognized("unknown message type");
  }
  return m;
}

}  // namespace ruche::meet
