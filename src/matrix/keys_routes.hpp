#pragma once
// /keys/*: upload, query, claim, changes, cross-signing (device_signing/upload behind
// PasswordUia unless it is the first upload, spec v1.11 / MSC3967) and signatures/upload.
// Storage and checks live in device_keys.hpp.
#include "matrix/client_api.hpp"
#include "matrix/device_keys.hpp"
#include "matrix/password_uia.hpp"
#include "net/router.hpp"

namespace ruche::matrix {

class KeysRoutes {
 public:
  KeysRoutes(net::Router& router, MatrixDeps deps, DeviceKeys& keys, PasswordUia& uia);

 private:
  boost::asio::awaitable<net::Response> Upload(net::Request& req);
  boost::asio::awaitable<net::Response> Query(net::Request& req);
  boost::asio::awaitable<net::Response> Claim(net::Request& req);
  boost::asio::awaitable<net::Response> Changes(net::Request& req);
  boost::asio::awaitable<net::Response> UploadCrossSigning(net::Request& req);
  boost::asio::awaitable<net::Response> UploadSignatures(net::Request& req);

  MatrixDeps deps_;
  DeviceKeys& keys_;
  PasswordUia& uia_;
};

}  // namespace ruche::matrix
