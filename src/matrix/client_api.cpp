#include "matrix/client_api.hpp"

#include "auth/accounts.hpp"
#include "matrix/account_routes.hpp"
#include "matrix/directory_routes.hpp"
#include "matrix/hierarchy_routes.hpp"
#include "matrix/login_routes.hpp"
#include "matrix/notifier.hpp"
#include "matrix/room_routes.hpp"
#include "matrix/search_routes.hpp"
#include "matrix/server_info_routes.hpp"
#include "matrix/sync_routes.hpp"
#include "store/store.hpp"

namespace ruche::matrix {
namespace {

class ClientApiImpl final : public ClientApi {
 public:
  ClientApiImpl(net::Router& router, MatrixDeps deps, int64_t position)
      : notifier_(position),
        events_(std::make_shared<RoomEvents>(deps.accounts.server_name())),
        login_(router, deps),
        rooms_(router, deps, notifier_, events_),
        account_(router, deps, notifier_, events_),
        sync_(router, deps, notifier_),
        search_(router, deps),
        directory_(router, deps),
        hierarchy_(router, deps) {
    MountServerInfo(router, deps);
  }

  void BeginShutdown() override { notifier_.WakeAll(); }

 private:
  Notifier notifier_;
  std::shared_ptr<RoomEvents> events_;  // used only inside store writes
  LoginRoutes login_;
  RoomRoutes rooms_;
  AccountRoutes account_;
  SyncRoutes sync_;
  SearchRoutes search_;
  DirectoryRoutes directory_;
  HierarchyRoutes hierarchy_;
};

}  // namespace

Result<std::unique_ptr<ClientApi>> MountClientApi(net::Router& router, MatrixDeps deps) {
  // Sync tokens continue from the newest stored event.
  auto position = MaxStreamOrdering(deps.store.Read().conn());
  if (!position) {
    return position.error();
  }
  return std::unique_ptr<ClientApi>(std::make_unique<ClientApiImpl>(router, deps, *position));
}

}  // namespace ruche::matrix
