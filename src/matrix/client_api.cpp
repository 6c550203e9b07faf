#include "matrix/client_api.hpp"

#include "auth/accounts.hpp"
#include "core/clock.hpp"
#include "matrix/account_routes.hpp"
#include "matrix/device_keys.hpp"
#include "matrix/device_routes.hpp"
#include "matrix/directory_routes.hpp"
#include "matrix/ephemeral_routes.hpp"
#include "matrix/hierarchy_routes.hpp"
#include "matrix/history_routes.hpp"
#include "matrix/key_backup_routes.hpp"
#include "matrix/keys_routes.hpp"
#include "matrix/login_routes.hpp"
#include "matrix/media_routes.hpp"
#include "matrix/notifier.hpp"
#include "matrix/password_uia.hpp"
#include "matrix/room_routes.hpp"
#include "matrix/search_routes.hpp"
#include "matrix/server_info_routes.hpp"
#include "matrix/sync_routes.hpp"
#include "matrix/to_device_routes.hpp"
#include "store/store.hpp"

namespace ruche::matrix {
namespace {

class ClientApiImpl final : public ClientApi {
 public:
  ClientApiImpl(net::Router& router, MatrixDeps deps, int64_t position)
      : notifier_(position),
        events_(std::make_shared<RoomEvents>(deps.accounts.server_name(), &notifier_)),
        typing_(core::NowMs() * 1000),
        presence_(deps.config.presence, deps.store, notifier_, events_, deps.calendar_busy),
        uia_(deps),
        device_keys_(deps.store, notifier_, events_),
        login_(router, deps, device_keys_),
        rooms_(router, deps, notifier_, events_, presence_),
        account_(router, deps, notifier_, events_),
        sync_(router, deps, notifier_, typing_, presence_, device_keys_),
        ephemeral_(router, deps, notifier_, typing_, presence_),
        devices_(router, deps, uia_, device_keys_),
        history_(router, deps),
        media_(router, deps),
        search_(router, deps),
        directory_(router, deps),
        hierarchy_(router, deps),
        keys_(router, deps, device_keys_, uia_),
        to_device_(router, deps, device_keys_),
        key_backup_(router, deps) {
    MountServerInfo(router, deps);
  }

  Result<void> Start() {
    RUCHE_RETURN_IF_ERROR(presence_.Load());
    RUCHE_RETURN_IF_ERROR(device_keys_.LoadQueued());
    ephemeral_.Start([this] { return search_.PurgeIfDue(); });
    return {};
  }

  void BeginShutdown() override {
    ephemeral_.Stop();
    notifier_.WakeAll();
  }

  SyncSharing SharedWindowStats() const override {
    auto s = sync_.SharedWindowStats();
    return {s.hits, s.misses, sync_.QuietSyncs()};
  }

  boost::asio::awaitable<void> InMeeting(std::string user_id, bool joined) override {
    co_await presence_.InMeeting(user_id, joined);
  }

 private:
  Notifier notifier_;
  std::shared_ptr<RoomEvents> events_;  // used only inside store writes
  TypingState typing_;
  PresenceTracker presence_;
  PasswordUia uia_;
  DeviceKeys device_keys_;
  LoginRoutes login_;
  RoomRoutes rooms_;
  AccountRoutes account_;
  SyncRoutes sync_;
  EphemeralRoutes ephemeral_;
  DeviceRoutes devices_;
  HistoryRoutes history_;
  MediaRoutes media_;
  SearchRoutes search_;
  DirectoryRoutes directory_;
  HierarchyRoutes hierarchy_;
  KeysRoutes keys_;
  ToDeviceRoutes to_device_;
  KeyBackupRoutes key_backup_;
};

}  // namespace

Result<std::unique_ptr<ClientApi>> MountClientApi(net::Router& router, MatrixDeps deps) {
  // Sync tokens continue from the newest stored event.
  auto position = MaxStreamOrdering(deps.store.Read().conn());
  if (!position) {
    return position.error();
  }
  auto api = std::make_unique<ClientApiImpl>(router, deps, *position);
  RUCHE_RETURN_IF_ERROR(api->Start());
  return std::unique_ptr<ClientApi>(std::move(api));
}

}  // namespace ruche::matrix
