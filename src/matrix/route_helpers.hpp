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

// The error as a response (spec errcode and status).
inline net::Response Fail(const core::Error& e) { return net::Response::FromError(e); }

// The `limit` query parameter: `fallback` when absent, at most `max`; M_INVALID_PARAM when it is
// not a non-negative integer.
Result<int64_t> LimitParam(const net::Request& req, int64_t fallback, int64_t max);

// The session behind the request's access token: M_MISSING_TOKEN / M_UNKNOWN_TOKEN otherwise.
Result<auth::Session> Authenticate(auth::Accounts& accounts, const net::Request& request);

}  // namespace ruche::matrix
