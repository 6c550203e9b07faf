#pragma once
// Shared by the Matrix route files: mounting under both path versions, authentication, and
// turning Results into responses.
#include <boost/asio/awaitable.hpp>

#include "auth/accounts.hpp"
#include "net/router.hpp"
#include "store/store.hpp"

namespace ruche::matrix {

// Registers `path` (e.g. "/login") under /_matrix/client/v3 and /_matrix/client/r0.
void AddClientRoute(net::Router& router, const std::string& method, const std::string& path,
                    net::Handler handler, net::RouteOptions options = {});

// Commits a store write from a handler and resumes when it is durable.
boost::asio::awaitable<Result<void>> Commit(store::Store& store, store::WriteFn fn);

// The session behind the request's access token: M_MISSING_TOKEN / M_UNKNOWN_TOKEN otherwise.
Result<auth::Session> Authenticate(auth::Accounts& accounts, const net::Request& request);

}  // namespace ruche::matrix
