#include "matrix/client_api.hpp"

#include "matrix/login_routes.hpp"
#include "matrix/server_info_routes.hpp"

namespace ruche::matrix {
namespace {

class ClientApiImpl final : public ClientApi {
 public:
  ClientApiImpl(net::Router& router, MatrixDeps deps) : login_(router, deps) {
    MountServerInfo(router, deps);
  }

 private:
  LoginRoutes login_;
};

}  // namespace

std::unique_ptr<ClientApi> MountClientApi(net::Router& router, MatrixDeps deps) {
  return std::make_unique<ClientApiImpl>(router, deps);
}

}  // namespace ruche::matrix
