#pragma once
// CalDAV over HTTP: everything under /dav/ (RFC 4791 on WebDAV RFC 4918, sync-collection
// RFC 6578), /.well-known/caldav (RFC 6764), and the app passwords DAV clients sign in with
// (/_ruche/v1/app_passwords). docs/api.md, "Calendars (CalDAV)".
#include <memory>

#include "auth/accounts.hpp"
#include "cal/instance_cache.hpp"
#include "core/config.hpp"
#include "net/router.hpp"
#include "store/store.hpp"

namespace boost::asio {
class thread_pool;
}

namespace ruche::cal {

struct CalDeps {
  const core::Config& config;
  store::Store& store;
  auth::Accounts& accounts;
  boost::asio::thread_pool& blocking;  // password checks and large REPORT/PROPFIND answers
  InstanceCache& instances;
};

class CalApi {
 public:
  virtual ~CalApi() = default;
};

std::unique_ptr<CalApi> MountCalApi(net::Router& router, CalDeps deps);

}  // namespace ruche::cal
