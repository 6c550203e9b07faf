#pragma once
// A meeting in progress: who is in it, what they publish, and a way to send each of them a
// signalling message. Shared by every participant's WebSocket and by SFU callbacks (which run
// on SFU worker threads), hence the lock; it is touched a few times per join or track change,
// never per packet.
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/json.hpp"
#include "rtc/sfu.hpp"

namespace ruche::meet {

struct Participant {
  std::string id;
  std::string display_name;
  std::string user_id;  // empty for guests
  bool audio_muted = false;
  bool video_muted = false;
  bool guest() const { return user_id.empty(); }
};

core::json::object ParticipantJson(const Participant& p);
core::json::object ProducerJson(const rtc::ProducerInfo& p);

class LiveMeeting {
 public:
  using SendFn = std::function<void(std::string message)>;  // thread-safe, never blocks

  explicit LiveMeeting(std::string id) : id_(std::move(id)) {}
  const std::string& id() const { return id_; }

  // Adds a participant unless the meeting holds `max_participants` already, first sending them
  // the `joined` message (everyone else and every producer) through `send`.
  Result<void> Join(Participant participant, const std::string& title, SendFn send,
                    size_t max_participants);
  // False when the participant was not there.
  bool Leave(const std::string& participant_id);
  bool empty();

  // Sends `message` to every participant but `except`.
  void Broadcast(const std::string& message, const std::string& except = "");
  void SendTo(const std::string& participant_id, const std::string& message);
  std::vector<std::string> ParticipantIdsExcept(const std::string& except);

  // Records what a participant publishes now; returns the producers that are new.
  std::vector<rtc::ProducerInfo> SetProducers(const std::string& participant_id,
                                              const std::vector<rtc::ProducerInfo>& now);
  void RemoveProducers(const std::vector<std::string>& producer_ids);
  // Updates the mute flags; the participant as now, or nullopt if gone.
  std::optional<Participant> SetMuted(const std::string& participant_id, bool audio, bool video);
  size_t size();

 private:
  struct Entry {
    Participant participant;
    SendFn send;
  };
  const std::string id_;
  std::mutex mu_;
  std::map<std::string, Entry> participants_;  // GUARDED_BY(mu_)
  std::vector<rtc::ProducerInfo> producers_;   // GUARDED_BY(mu_)
};

// The meetings in progress on this server, created by their first participant and dropped
// with their last.
class LiveMeetings {
 public:
  // Joins (creating the live meeting if needed) under one lock, so a meeting emptied by a
  // leave at the same instant is never joined after it was dropped.
  Result<std::shared_ptr<LiveMeeting>> Join(const std::string& meeting_id, Participant participant,
                                            const std::string& title, LiveMeeting::SendFn send,
                                            size_t max_participants);
  // Leaves, dropping the live meeting with its last participant.
  void Leave(const std::string& meeting_id, const std::string& participant_id);
  size_t Participants(const std::string& meeting_id);

 private:
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<LiveMeeting>> meetings_;  // GUARDED_BY(mu_)
};

}  // namespace ruche::meet
