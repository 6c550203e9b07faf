#pragma once
// The meeting signalling protocol's client messages (docs/api.md, "Meeting signalling"),
// parsed and validated in one place so the WebSocket handler only sees well-formed requests.
#include <optional>
#include <string>
#include <vector>

#include "core/error.hpp"

namespace ruche::meet {

inline constexpr size_t kMaxDisplayName = 64;
inline constexpr size_t kMaxSdp = 256 * 1024;
inline constexpr size_t kMaxProducerIdsPerMessage = 500;

struct ClientMessage {
  enum class Type {
    kJoin,
    kPublish,
    kSubscribe,
    kUnsubscribe,
    kSubscribeAnswer,
    kPreferredLayer,
    kMute,
    kLeave
  };
  Type type = Type::kLeave;
  // join
  std::string key;
  std::optional<std::string> access_token;
  std::optional<std::string> display_name;  // trimmed, 1–64 characters
  // publish, subscribe_answer
  std::string sdp;
  // subscribe, unsubscribe
  std::vector<std::string> producer_ids;
  // preferred_layer
  std::string producer_id;
  int spatial_layer = 2;
  // mute
  bool audio_muted = false;
  bool video_muted = false;
};

// M_NOT_JSON / M_BAD_JSON / M_INVALID_PARAM / M_UNRECOGNIZED with a message saying what is
// wrong.
Result<ClientMessage> ParseClientMessage(std::string_view text);

}  // namespace ruche::meet
