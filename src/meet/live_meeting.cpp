#include "meet/live_meeting.hpp"

#include <algorithm>

namespace ruche::meet {

namespace json = core::json;

json::object ParticipantJson(const Participant& p) {
  json::object o;
  o["participant_id"] = p.id;
  o["display_name"] = p.display_name;
  if (!p.guest()) {
    o["user_id"] = p.user_id;
  }
  o["guest"] = p.guest();
  o["audio_muted"] = p.audio_muted;
  o["video_muted"] = p.video_muted;
  return o;
}

json::object ProducerJson(const rtc::ProducerInfo& p) {
  json::object o;
  o["producer_id"] = p.producer_id;
  o["participant_id"] = p.peer_id;
  o["kind"] = std::string(rtc::MediaKindName(p.kind));
  return o;
}

Result<void> LiveMeeting::Join(Participant participant, const std::string& title, SendFn send,
                               size_t max_participants) {
  std::lock_guard lock(mu_);
  if (participants_.size() >= max_participants) {
    return Error(403, "M_RESOURCE_LIMIT_EXCEEDED", "the meeting is full");
  }
  json::object joined;
  joined["type"] = "joined";
  joined["participant_id"] = participant.id;
  joined["display_name"] = participant.display_name;
  joined["title"] = title;
  json::array others;
  for (const auto& [id, e] : participants_) {
    others.push_back(ParticipantJson(e.participant));
  }
  joined["participants"] = std::move(others);
  json::array producers;
  for (const auto& p : producers_) {
    producers.push_back(ProducerJson(p));
  }
  joined["producers"] = std::move(producers);
  // `joined` goes out first, under the lock: no broadcast can slip in before it.
  send(json::serialize(joined));
  std::string id = participant.id;
  participants_[id] = Entry{std::move(participant), std::move(send)};
  return Result<void>{};
}

bool LiveMeeting::Leave(const std::string& participant_id) {
  std::lock_guard lock(mu_);
  return participants_.erase(participant_id) > 0;
}

bool LiveMeeting::empty() {
  std::lock_guard lock(mu_);
  return participants_.empty();
}

size_t LiveMeeting::size() {
  std::lock_guard lock(mu_);
  return participants_.size();
}

void LiveMeeting::Broadcast(const std::string& message, const std::string& except) {
  std::lock_guard lock(mu_);
  for (const auto& [id, e] : participants_) {
    if (id != except) {
      e.send(message);
    }
  }
}

void LiveMeeting::SendTo(const std::string& participant_id, const std::string& message) {
  std::lock_guard lock(mu_);
  if (auto it = participants_.find(participant_id); it != participants_.end()) {
    it->second.send(message);
  }
}

std::vector<std::string> LiveMeeting::ParticipantIdsExcept(const std::string& except) {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  for (const auto& [id, e] : participants_) {
    if (id != except) {
      out.push_back(id);
    }
  }
  return out;
}

std::vector<rtc::ProducerInfo> LiveMeeting::SetProducers(
    const std::string& participant_id, const std::vector<rtc::ProducerInfo>& now) {
  std::lock_guard lock(mu_);
  std::vector<rtc::ProducerInfo> added;
  for (const auto& p : now) {
    bool known = std::any_of(producers_.begin(), producers_.end(),
                             [&](const auto& q) { return q.producer_id == p.producer_id; });
    if (!known) {
      added.push_back(p);
    }
  }
  std::erase_if(producers_, [&](const auto& q) { return q.peer_id == participant_id; });
  producers_.insert(producers_.end(), now.begin(), now.end());
  return added;
}

void LiveMeeting::RemoveProducers(const std::vector<std::string>& producer_ids) {
  std::lock_guard lock(mu_);
  std::erase_if(producers_, [&](const auto& q) {
    return std::find(producer_ids.begin(), producer_ids.end(), q.producer_id) != producer_ids.end();
  });
}

std::optional<Participant> LiveMeeting::SetMuted(const std::string& participant_id, bool audio,
                                                 bool video) {
  std::lock_guard lock(mu_);
  auto it = participants_.find(participant_id);
  if (it == participants_.end()) {
    return std::nullopt;
  }
  it->second.participant.audio_muted = audio;
  it->second.participant.video_muted = video;
  return it->second.participant;
}

Result<std::shared_ptr<LiveMeeting>> LiveMeetings::Join(const std::string& meeting_id,
                                                        Participant participant,
                                                        const std::string& title,
                                                        LiveMeeting::SendFn send,
                                                        size_t max_participants) {
  std::lock_guard lock(mu_);
  auto& slot = meetings_[meeting_id];
  if (slot == nullptr) {
    slot = std::make_shared<LiveMeeting>(meeting_id);
  }
  auto joined = slot->Join(std::move(participant), title, std::move(send), max_participants);
  if (!joined) {
    if (slot->empty()) {
      meetings_.erase(meeting_id);
    }
    return joined.error();
  }
  return slot;
}

void LiveMeetings::Leave(const std::string& meeting_id, const std::string& participant_id) {
  std::lock_guard lock(mu_);
  auto it = meetings_.find(meeting_id);
  if (it == meetings_.end()) {
    return;
  }
  it->second->Leave(participant_id);
  if (it->second->empty()) {
    meetings_.erase(it);
  }
}

size_t LiveMeetings::Participants(const std::string& id) {
  std::lock_guard lock(mu_);
  auto it = meetings_.find(id);
  return it == meetings_.end() ? 0 : it->second->size();
}

}  // namespace ruche::meet
