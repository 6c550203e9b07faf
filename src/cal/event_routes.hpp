#pragma once
// The web client's calendar over JSON (docs/api.md, "Calendars (web client)"): the signed-in
// user's calendars, their events in a range with recurrences expanded, and writing events with
// invitees, who get iMIP e-mails (REQUEST on creation and change, CANCEL on deletion). The same
// objects are what CalDAV clients see.
#include <memory>

#include "cal/booking_routes.hpp"

namespace ruche::cal {

class EventApi {
 public:
  virtual ~EventApi() = default;
};

std::unique_ptr<EventApi> MountEventApi(net::Router& router, BookingDeps deps);

}  // namespace ruche::cal
