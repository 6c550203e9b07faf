#pragma once
// The Matrix Client-Server API, mounted on the router under /_matrix/client/{v3,r0}/... (and the
// unversioned /versions, /.well-known/matrix/client).
#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "core/config.hpp"
#include "core/error.hpp"

namespace boost::asio {
class thread_pool;
}

namespace ruche::store {
class Store;
}
namespace ruche::auth {
class Accounts;
}
namespace ruche::net {
class Router;
}
namespace ruche::files {
class BlobStore;
}

namespace ruche::matrix {

// What the Matrix handlers need from the rest of the server. Owned by app/.
struct MatrixDeps {
  const core::Config& config;
  store::Store& store;
  auth::Accounts& accounts;
  boost::asio::thread_pool& blocking;  // password hashing and other slow CPU work
  files::BlobStore& blobs;             // media bytes (<data>/media)
  // When set: the end (ms) of the calendar event `user_id` is busy with at `now_ms`, if any
  // (cal/ provides it; presence shows such users busy).
  std::function<std::optional<int64_t>(const std::string& user_id, int64_t now_ms)> calendar_busy;
};

// Registers every Matrix route. The returned object owns the handlers' state (rate limiters,
// registration sessions) and must outlive the server.
class ClientApi {
 public:
  virtual ~ClientApi() = default;
  // The server is draining: answer waiting long-polls now.
  virtual void BeginShutdown() = 0;
  // `user_id` joined (true) or left (false) a meeting with their account: their presence shows
  // them in a meeting meanwhile (meet/ calls it).
  virtual boost::asio::awaitable<void> InMeeting(std::string user_id, bool joined) = 0;
  // How often a /sync found its new events already read by another member's (SharedWindows).
  struct SyncSharing {
    uint64_t hits = 0;
    uint64_t misses = 0;
    uint64_t quiet = 0;  // syncs answered by the quiet path (sync_routes.hpp)
  };
  virtual SyncSharing SharedWindowStats() const = 0;
};
Result<std::unique_ptr<ClientApi>> MountClientApi(net::Router& router, MatrixDeps deps);

// Merges the search index if redactions left words in it (see migration 9). Synchronous: for
// the clean stop, after the I/O threads have ended and before the store closes.
Result<void> PurgeRedactedSearchText(store::Store& store);

}  // namespace ruche::matrix
