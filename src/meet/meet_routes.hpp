#pragma once
// Meetings over HTTP: POST /_ruche/v1/meetings, GET /_ruche/v1/meetings/{id}, and the signalling
// WebSocket /_ruche/v1/meetings/{id}/ws (docs/api.md, "Meetings").
#include <boost/asio/awaitable.hpp>
#include <functional>
#include <memory>
#include <string>

#include "auth/accounts.hpp"
#include "core/config.hpp"
#include "net/router.hpp"
#include "rtc/sfu.hpp"
#include "store/store.hpp"

namespace ruche::meet {

struct MeetDeps {
  const core::Config& config;
  store::Store& store;
  auth::Accounts& accounts;
  rtc::Sfu& sfu;
  // Told when a signed-in user joins (true) or leaves (false) a meeting: presence shows them
  // "in a meeting". Optional.
  std::function<boost::asio::awaitable<void>(std::string user_id, bool joined)> in_meeting;
};

class MeetApi {
 public:
  virtual ~MeetApi() = default;
};

std::unique_ptr<MeetApi> MountMeetApi(net::Router& router, MeetDeps deps);

}  // namespace ruche::meet
