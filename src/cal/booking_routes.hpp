#pragma once
// Booking pages over HTTP (docs/api.md, "Booking"): the owner's booking types and bookings
// (/_ruche/v1/booking_types, /_ruche/v1/bookings, access token), the public side a visitor's
// browser uses (/_ruche/v1/book/<user>/<slug>: the type, its free slots, booking), and the
// signed manage link (cancel, reschedule).
#include <memory>

#include "auth/accounts.hpp"
#include "cal/instance_cache.hpp"
#include "core/config.hpp"
#include "mail/mail_queue.hpp"
#include "net/router.hpp"
#include "store/store.hpp"

namespace ruche::cal {

struct BookingDeps {
  const core::Config& config;
  store::Store& store;
  auth::Accounts& accounts;
  mail::MailQueue& mail;
  InstanceCache& instances;
};

class BookingApi {
 public:
  virtual ~BookingApi() = default;
};

std::unique_ptr<BookingApi> MountBookingApi(net::Router& router, BookingDeps deps);

}  // namespace ruche::cal
