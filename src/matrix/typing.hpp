#pragma once
// Who is typing in which room. Typing notifications are ephemeral: kept in memory only, never
// written to the store. Each change takes a serial from the typing stream, which sync tokens
// carry beside the store's stream position (`s<stream>_<typing>`). The serial starts at the boot
// time in microseconds, so it keeps growing across restarts without being persisted.
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace ruche::matrix {

class TypingState {
 public:
  // `now_us` seeds the serial: pass the wall clock at start-up.
  explicit TypingState(int64_t now_us) : serial_(now_us) {}

  // Marks `user` typing in `room` until `now_ms + timeout_ms`, or stops it. Returns the new
  // serial when the set of typers changed (a renewal changes nothing), else 0.
  int64_t Set(const std::string& room, const std::string& user, bool typing, int64_t timeout_ms,
              int64_t now_ms);

  // Drops every typer whose timeout passed; returns the rooms that changed and their serial.
  std::vector<std::pair<std::string, int64_t>> Expire(int64_t now_ms);

  struct RoomTypers {
    int64_t serial = 0;  // last change in this room
    std::vector<std::string> users;
  };
  // The typers of `rooms` whose serial is above `since` (all non-empty rooms when `since` is 0),
  // and the current serial, read under one lock so the pair is consistent.
  std::map<std::string, RoomTypers> ChangedSince(const std::vector<std::string>& rooms,
                                                 int64_t since, int64_t* serial_now) const;

  int64_t serial() const;

 private:
  struct Room {
    int64_t serial = 0;
    int64_t emptied_ms = 0;  // when the last typer left (the entry is forgotten a minute later)
    std::map<std::string, int64_t> expiry_ms_by_user;
  };
  mutable std::mutex mu_;
  int64_t serial_;               // GUARDED_BY(mu_)
  int64_t forgotten_below_ = 0;  // GUARDED_BY(mu_) rooms changed at or below this may be gone
  std::unordered_map<std::string, Room> rooms_;  // GUARDED_BY(mu_)
};

}  // namespace ruche::matrix
