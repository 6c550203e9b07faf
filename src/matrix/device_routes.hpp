#pragma once
// The account's devices (list, rename, delete) and password change. Deleting devices and
// changing the password re-check the password (PasswordUia), so a stolen access token alone
// cannot sign the owner out or lock them out.
#include "matrix/client_api.hpp"
#include "matrix/device_keys.hpp"
#include "matrix/password_uia.hpp"
#include "net/router.hpp"

namespace ruche::matrix {

class DeviceRoutes {
 public:
  DeviceRoutes(net::Router& router, MatrixDeps deps, PasswordUia& uia, DeviceKeys& keys);

 private:
  boost::asio::awaitable<net::Response> ListDevices(net::Request& req);
  boost::asio::awaitable<net::Response> GetDevice(net::Request& req);
  boost::asio::awaitable<net::Response> RenameDevice(net::Request& req);
  boost::asio::awaitable<net::Response> DeleteDevices(net::Request& req, bool many);
  boost::asio::awaitable<net::Response> ChangePassword(net::Request& req);

  MatrixDeps deps_;
  PasswordUia& uia_;
  DeviceKeys& keys_;  // a deleted device's keys and to-device queue go with it
};

}  // namespace ruche::matrix
