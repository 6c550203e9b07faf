#pragma once
// A booking type: what a visitor can book from a user's public page (/book/<user>/<slug>) and
// under which rules. Stored as one JSON document (booking_types.settings), read and written only
// here; the JSON shape is the REST API's (docs/api.md, "Booking").
#include <optional>
#include <string>
#include <vector>

#include "cal/booking_slots.hpp"
#include "core/error.hpp"
#include "core/json.hpp"

namespace ruche::cal {

struct BookingQuestion {
  std::string id;
  std::string label;
  bool required = false;
};

struct BookingType {
  std::string id;
  std::string owner;  // localpart
  std::string slug;
  std::string title;
  std::string description;
  bool video = true;    // a Ruche meeting is created for each booking
  std::string address;  // in person: where
  std::string timezone = "UTC";
  Availability availability;
  BookingRules rules;
  std::vector<BookingQuestion> questions;
  bool requires_confirmation = false;
  std::string notify_email;  // the owner is told of each booking there (optional)
};

// Reads the API's JSON into `out` (keeping id, owner; every other field from the body, with
// defaults for those left out). 400 M_INVALID_PARAM / M_BAD_JSON naming the bad field.
Result<void> ReadBookingType(const core::json::object& body, BookingType& out);
// The API's JSON (also what is stored).
core::json::object BookingTypeJson(const BookingType& t);
// What a visitor's page may see (no notification address).
core::json::object PublicBookingTypeJson(const BookingType& t);

// "2027-03-29T07:00:00Z" <-> UTC seconds.
Result<int64_t> ParseIsoUtc(std::string_view text);
std::string FormatIsoUtc(int64_t seconds);

}  // namespace ruche::cal
