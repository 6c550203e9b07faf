#include "matrix/notifier.hpp"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>

namespace ruche::matrix {

namespace asio = boost::asio;

// Rooms and users share one key space: room IDs start with '!', user IDs with '@'.
struct Notifier::Waiter {
  explicit Waiter(asio::any_io_executor ex) : timer(ex) {}
  asio::steady_timer timer;
  RoomList rooms;  // shared with the caller's cache: a re-poll copies no room ID
  std::string user;
  template <typename Fn>
  void ForEachKey(Fn&& fn) const {
    for (const auto& room : *rooms) {
      fn(room);
    }
    fn(user);
  }
};

int64_t Notifier::position() const {
  std::lock_guard lock(mu_);
  return position_;
}

size_t Notifier::waiting() const {
  std::lock_guard lock(mu_);
  size_t n = 0;
  for (const auto& [k, set] : by_key_) {
    n += set.size();
  }
  return n;
}

bool Notifier::ChangedSince(const std::vector<std::string>& keys, const std::string& user,
                            int64_t since, int64_t since_typing) const {
  auto newer = [](const auto& map, const std::string& key, int64_t than) {
    auto it = map.find(key);
    return it != map.end() && it->second > than;
  };
  if (newer(last_by_key_, user, since)) {
    return true;
  }
  for (const auto& k : keys) {
    if (newer(last_by_key_, k, since) || newer(last_typing_by_room_, k, since_typing)) {
      return true;
    }
  }
  return false;
}

void Notifier::WakeKey(const std::string& key) {
  if (auto it = by_key_.find(key); it != by_key_.end()) {
    for (const auto& w : it->second) {
      // The timer belongs to the waiter's connection context: cancel it there. The lambda
      // holds the waiter, which may have timed out and left by the time it runs.
      asio::post(w->timer.get_executor(), [w] { w->timer.cancel(); });
    }
    // Cleared, not erased: the woken re-register at once, into the same buckets.
    it->second.clear();
  }
}

void Notifier::NoteWrite(Kind kind, int64_t stream) {
  auto& last = last_of_kind_[static_cast<size_t>(kind)];
  int64_t seen = last.load(std::memory_order_relaxed);
  while (seen < stream && !last.compare_exchange_weak(seen, stream, std::memory_order_release)) {
  }
}

void Notifier::NotePresence(int64_t stream, const std::string& user,
                            const std::vector<std::string>& rooms) {
  std::lock_guard lock(presence_mu_);
  if (last_presence_by_key_.size() + rooms.size() + 1 > kMaxPresenceKeys) {
    for (const auto& [key, last] : last_presence_by_key_) {
      presence_forgotten_upto_ = std::max(presence_forgotten_upto_, last);
    }
    last_presence_by_key_.clear();
  }
  auto note = [&](const std::string& key) {
    int64_t& last = last_presence_by_key_[key];
    last = std::max(last, stream);
  };
  note(user);
  for (const auto& room : rooms) {
    note(room);
  }
}

bool Notifier::PresenceWrittenSince(int64_t since, const std::string& user,
                                    const std::vector<std::string>& rooms) const {
  std::lock_guard lock(presence_mu_);
  if (since < presence_forgotten_upto_) {
    return true;
  }
  auto newer = [&](const std::string& key) {
    auto it = last_presence_by_key_.find(key);
    return it != last_presence_by_key_.end() && it->second > since;
  };
  return newer(user) || std::any_of(rooms.begin(), rooms.end(), newer);
}

void Notifier::PublishTyping(int64_t serial, const std::string& room) {
  std::lock_guard lock(mu_);
  last_typing_by_room_[room] = serial;
  WakeKey(room);
}

void Notifier::Publish(int64_t stream, const std::vector<std::string>& rooms,
                       const std::vector<std::string>& users) {
  std::lock_guard lock(mu_);
  position_ = std::max(position_, stream);
  auto touch = [&](const std::string& key) {
    last_by_key_[key] = stream;
    WakeKey(key);
  };
  for (const auto& r : rooms) {
    touch(r);
  }
  for (const auto& u : users) {
    touch(u);
  }
}

void Notifier::WakeAll() {
  std::lock_guard lock(mu_);
  closing_ = true;
  for (const auto& [key, waiters] : by_key_) {
    for (const auto& w : waiters) {
      asio::post(w->timer.get_executor(), [w] { w->timer.cancel(); });
    }
  }
  by_key_.clear();
}

asio::awaitable<void> Notifier::Wait(RoomList rooms, std::string user, int64_t since,
                                     int64_t since_typing, int64_t timeout_ms) {
  asio::any_io_executor executor = co_await asio::this_coro::executor;
  auto waiter = std::make_shared<Waiter>(executor);
  {
    std::lock_guard lock(mu_);
    if (closing_ || ChangedSince(*rooms, user, since, since_typing) || timeout_ms <= 0) {
      co_return;
    }
    waiter->rooms = std::move(rooms);
    waiter->user = std::move(user);
    if (by_key_.size() > keys_to_sweep_) {
      std::erase_if(by_key_, [](const auto& entry) { return entry.second.empty(); });
      keys_to_sweep_ = std::max(kMinKeysToSweep, 2 * by_key_.size());
    }
    waiter->ForEachKey([&](const std::string& k) { by_key_[k].insert(waiter); });
  }
  waiter->timer.expires_after(std::chrono::milliseconds(timeout_ms));
  auto [ec] = co_await waiter->timer.async_wait(asio::as_tuple(asio::use_awaitable));
  (void)ec;  // operation_aborted = woken by Publish; success = timed out
  std::lock_guard lock(mu_);
  // Empty sets stay for the next poll of the same user or room (a fanout's 1,000 re-polls
  // would otherwise free and rebuild them every time); the prologue sweeps them in bulk.
  waiter->ForEachKey([&](const std::string& k) {
    if (auto it = by_key_.find(k); it != by_key_.end()) {
      it->second.erase(waiter);
    }
  });
}

}  // namespace ruche::matrix
