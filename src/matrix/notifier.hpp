#pragma once
// Wakes /sync long-polls when something they care about is committed. Waiters register the rooms
// they are in and their own user ID (invites arrive for rooms they are not in yet); a committed
// event wakes only the waiters of its room and of the users it names, so one message in a
// 1,000-member room wakes its members and nobody else.
#include <array>
#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace ruche::matrix {

class Notifier {
 public:
  explicit Notifier(int64_t position) : position_(position) {
    for (auto& last : last_of_kind_) {
      last.store(position);  // unknown before start-up: assume anything may have changed
    }
  }

  // Data kinds that share the stream with room events. A sync skips reading a kind that has
  // not been written since its token, which is what keeps a message's fanout to 1,000 syncs
  // cheap.
  // kMembership: any m.room.member event (joins, leaves, invites, profile changes) — a sync
  // whose window has none may take its rooms from memory (SyncRoutes' quiet path).
  enum class Kind { kAccountData, kReceipts, kPresence, kDeviceLists, kMembership, kCount };
  // Call inside the write (on the writer thread, before its commit), not after it: with group
  // commit, another write of the same batch may Publish() a later position before this write's
  // handler runs, and a sync reading up to that position must already know to read this kind.
  // Noting early only makes a sync look and find nothing yet.
  void NoteWrite(Kind kind, int64_t stream);
  bool WrittenSince(Kind kind, int64_t since) const {
    return last_of_kind_[static_cast<size_t>(kind)].load(std::memory_order_acquire) > since;
  }

  // A presence write of `user`, who is in `rooms`, at `stream` (inside the write, before its
  // commit, like NoteWrite): a sync whose user shares none of these rooms may skip presence.
  void NotePresence(int64_t stream, const std::string& user, const std::vector<std::string>& rooms);
  // Whether a presence write was noted after `since` for `user` or in one of `rooms`.
  bool PresenceWrittenSince(int64_t since, const std::string& user,
                            const std::vector<std::string>& rooms) const;

  // The newest committed stream ordering.
  int64_t position() const;

  // Called after a commit: `stream` is the new position; `rooms` and `users` what it touched.
  // Safe from any thread.
  void Publish(int64_t stream, const std::vector<std::string>& rooms,
               const std::vector<std::string>& users);

  // A typing change (typing stream serial) in `room`. Safe from any thread.
  void PublishTyping(int64_t serial, const std::string& room);

  // Returns when something newer than `since` (store stream) or `since_typing` (typing stream)
  // happened in one of `rooms` or for `user`, or after `timeout_ms`. Returns at once if that
  // already happened.
  using RoomList = std::shared_ptr<const std::vector<std::string>>;
  boost::asio::awaitable<void> Wait(RoomList rooms, std::string user, int64_t since,
                                    int64_t since_typing, int64_t timeout_ms);

  size_t waiting() const;

  // Wakes every waiter now and makes later waits return at once (server shutting down: a
  // long-poll must not hold the drain for its whole timeout).
  void WakeAll();

 private:
  struct Waiter;
  bool ChangedSince(const std::vector<std::string>& rooms, const std::string& user, int64_t since,
                    int64_t since_typing) const;  // REQUIRES(mu_)
  void WakeKey(const std::string& key);           // REQUIRES(mu_)

  std::array<std::atomic<int64_t>, static_cast<size_t>(Kind::kCount)> last_of_kind_;
  static constexpr size_t kMaxPresenceKeys = 200'000;
  mutable std::mutex presence_mu_;
  std::unordered_map<std::string, int64_t> last_presence_by_key_;  // GUARDED_BY(presence_mu_)
  // Keys forgotten (the map was cleared at its bound): anything up to here counts as written.
  int64_t presence_forgotten_upto_ = 0;  // GUARDED_BY(presence_mu_)
  mutable std::mutex mu_;
  int64_t position_;                                              // GUARDED_BY(mu_)
  bool closing_ = false;                                          // GUARDED_BY(mu_)
  std::unordered_map<std::string, int64_t> last_by_key_;          // GUARDED_BY(mu_)
  std::unordered_map<std::string, int64_t> last_typing_by_room_;  // GUARDED_BY(mu_)
  std::unordered_map<std::string, std::unordered_set<std::shared_ptr<Waiter>>>
      by_key_;  // GUARDED_BY(mu_); a key's set may be empty until the next sweep
  static constexpr size_t kMinKeysToSweep = 10'000;
  size_t keys_to_sweep_ = kMinKeysToSweep;  // GUARDED_BY(mu_): sweep empty sets past this size
};

}  // namespace ruche::matrix
