#pragma once
// Meetings over HTTP: POST /_ruche/v1/meetings, GET /_ruche/v1/meetings/{id}, and the signalling
// WebSocket /_ruche/v1/meetings/{id}/ws (docs/api.md, "Meetings").
#include <memory>

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
};

class MeetApi {
 public:
  virtual ~MeetApi() = default;
};

std::unique_ptr<MeetApi> MountMeetApi(net::Router& router, MeetDeps deps);

}  // namespace ruche::meet
