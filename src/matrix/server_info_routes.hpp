#pragma once
#include "matrix/client_api.hpp"

namespace ruche::matrix {

// GET /_matrix/client/versions and GET /.well-known/matrix/client.
void MountServerInfo(net::Router& router, const MatrixDeps& deps);

}  // namespace ruche::matrix
