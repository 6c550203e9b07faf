#pragma once
// Meetings as stored: id, title, creator, whether guests may join, and the SHA-256 of the
// join key. The key itself exists only in the join link handed to the creator.
#include <optional>
#include <string>

#include "core/error.hpp"
#include "store/store.hpp"

namespace ruche::meet {

inline constexpr size_t kMaxTitle = 200;

struct Meeting {
  std::string id;
  std::string title;
  std::string creator;  // Matrix user id
  bool allow_guests = false;
};

struct CreatedMeeting {
  Meeting meeting;
  std::string key;  // the secret of the join link
};

class MeetingDirectory {
 public:
  explicit MeetingDirectory(store::Store& store) : store_(store) {}

  // A new meeting's row and key. The caller commits `write` (a store write).
  struct NewMeeting {
    CreatedMeeting created;
    store::WriteFn write;
  };
  static Result<NewMeeting> Prepare(const std::string& title, const std::string& creator,
                                    bool allow_guests);

  // The meeting if `key` is its join key. Unknown meetings and wrong keys are the same
  // M_NOT_FOUND, so a guessed id reveals nothing.
  Result<Meeting> Find(const std::string& id, const std::string& key);

 private:
  store::Store& store_;
};

}  // namespace ruche::meet
