#include "matrix/client_api.hpp"

#include "matrix/login_routes.hpp"
#include "matrix/notifier.hpp"
#include "matrix/room_routes.hpp"
#include "matrix/server_info_routes.hpp"
#include "matrix/sync_routes.hpp"
#include "store/store.hpp"

namespace ruche::matrix {
namespace {

class ClientApiImpl final : public ClientApi {
 public:
  ClientApiImpl(net::Router& router, MatrixDeps deps, int64_t position)
      : notifier_(position),
        login_(router, deps),
        rooms_(router, deps, notifier_),
        sync_(router, deps, notifier_) {
    MountServerInfo(router, deps);
  }

 private:
  Notifier notifier_;
  LoginRoutes login_;
  RoomRoutes rooms_;
  SyncRoutes sync_;
};

}  // namespace

Result<std::unique_ptr<ClientApi>> MountClientApi(net::Router& router, MatrixDeps deps) {
  // Sync tokens continue from the newest stored event.
  auto row = deps.store.Read()->QueryOne("SELECT COALESCE(MAX(stream_ordering), 0) FROM events");
  if (!row) {
    return row.error();
  }
  return std::unique_ptr<ClientApi>(std::make_unique<ClientApiImpl>(router, deps, (*row)->Int(0)));
}

}  // namespace ruche::matrix
