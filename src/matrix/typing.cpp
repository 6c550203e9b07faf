#include "matrix/typing.hpp"

#include <algorithm>

namespace ruche::matrix {

namespace {
constexpr int64_t kForgetAfterMs = 60'000;
}  // namespace

int64_t TypingState::Set(const std::string& room, const std::string& user, bool typing,
                         int64_t timeout_ms, int64_t now_ms) {
  std::lock_guard lock(mu_);
  if (typing) {
    Room& r = rooms_[room];
    auto [it, inserted] = r.expiry_ms_by_user.insert_or_assign(user, now_ms + timeout_ms);
    if (!inserted) {
      return 0;  // still typing: a renewal is not news
    }
    r.emptied_ms = 0;
    r.serial = ++serial_;
    return r.serial;
  }
  auto it = rooms_.find(room);
  if (it == rooms_.end() || it->second.expiry_ms_by_user.erase(user) == 0) {
    return 0;
  }
  it->second.serial = ++serial_;
  if (it->second.expiry_ms_by_user.empty()) {
    it->second.emptied_ms = now_ms;
  }
  // The room entry stays (with its serial) so a sync still learns that the typer stopped.
  return it->second.serial;
}

std::vector<std::pair<std::string, int64_t>> TypingState::Expire(int64_t now_ms) {
  std::lock_guard lock(mu_);
  std::vector<std::pair<std::string, int64_t>> changed;
  for (auto it = rooms_.begin(); it != rooms_.end();) {
    auto& users = it->second.expiry_ms_by_user;
    bool dropped = std::erase_if(users, [now_ms](const auto& kv) { return kv.second <= now_ms; });
    if (dropped) {
      it->second.serial = ++serial_;
      changed.emplace_back(it->first, it->second.serial);
      if (users.empty()) {
        it->second.emptied_ms = now_ms;
      }
    }
    // A room nobody types in is forgotten a minute later; ChangedSince then tells holders of
    // older tokens "nobody types" in every room they ask about, so no stale typer survives.
    if (users.empty() && now_ms - it->second.emptied_ms >= kForgetAfterMs) {
      forgotten_below_ = std::max(forgotten_below_, it->second.serial);
      it = rooms_.erase(it);
    } else {
      ++it;
    }
  }
  return changed;
}

std::map<std::string, TypingState::RoomTypers> TypingState::ChangedSince(
    const std::vector<std::string>& rooms, int64_t since, int64_t* serial_now) const {
  std::lock_guard lock(mu_);
  *serial_now = serial_;
  std::map<std::string, RoomTypers> out;
  for (const auto& room : rooms) {
    auto it = rooms_.find(room);
    if (it == rooms_.end()) {
      if (since != 0 && since < forgotten_below_) {
        out[room].serial = forgotten_below_;  // may have missed a stop: say nobody types
      }
      continue;
    }
    const Room& r = it->second;
    bool changed = since == 0 ? !r.expiry_ms_by_user.empty() : r.serial > since;
    if (!changed) {
      continue;
    }
    RoomTypers& t = out[room];
    t.serial = r.serial;
    for (const auto& [user, expiry] : r.expiry_ms_by_user) {
      t.users.push_back(user);
    }
  }
  return out;
}

int64_t TypingState::serial() const {
  std::lock_guard lock(mu_);
  return serial_;
}

}  // namespace ruche::matrix
