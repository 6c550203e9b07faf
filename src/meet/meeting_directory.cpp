#include "meet/meeting_directory.hpp"

#include "core/clock.hpp"
#include "core/crypto.hpp"

namespace ruche::meet {

Result<MeetingDirectory::NewMeeting> MeetingDirectory::Prepare(const std::string& title,
                                                               const std::string& creator,
                                                               bool allow_guests) {
  if (title.empty() || title.size() > kMaxTitle * 4) {
    return Error::BadRequest("title must be 1 to 200 characters", "M_INVALID_PARAM");
  }
  NewMeeting n;
  n.created.meeting = Meeting{core::RandomToken(9), title, creator, allow_guests};
  n.created.key = core::RandomToken(16);  // 128 bits
  std::string key_hash = core::Sha256Hex(n.created.key);
  Meeting m = n.created.meeting;
  n.write = [m, key_hash](store::Connection& c) -> Result<void> {
    auto r = c.Execute(
        "INSERT INTO meetings (meeting_id, title, creator, allow_guests, key_hash, created_ts) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        {m.id, m.title, m.creator, int64_t{m.allow_guests ? 1 : 0}, key_hash, core::NowMs()});
    if (!r) {
      return r.error();
    }
    return Result<void>{};
  };
  return n;
}

Result<Meeting> MeetingDirectory::Find(const std::string& id, const std::string& key) {
  auto lease = store_.Read();
  auto row = lease->QueryOne(
      "SELECT title, creator, allow_guests, key_hash FROM meetings WHERE meeting_id = ?", {id});
  if (!row) {
    return row.error();
  }
  // Compared as hashes in constant time: the key's bytes do not leak through timing.
  if (!*row || !core::ConstantTimeEquals((*row)->Text(3), core::Sha256Hex(key))) {
    return Error::NotFound("no such meeting, or the link is not valid");
  }
  return Meeting{id, (*row)->Text(0), (*row)->Text(1), (*row)->Int(2) != 0};
}

}  // namespace ruche::meet
