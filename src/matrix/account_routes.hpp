#pragma once
// The account's own data: filters, account data (global and per room, delivered by /sync),
// profile (display name, avatar), and /capabilities.
#include <functional>
#include <memory>
#include <optional>

#include "auth/accounts.hpp"
#include "matrix/client_api.hpp"
#include "matrix/notifier.hpp"
#include "matrix/room_events.hpp"
#include "net/router.hpp"

namespace ruche::matrix {

class AccountRoutes {
 public:
  AccountRoutes(net::Router& router, MatrixDeps deps, Notifier& notifier,
                std::shared_ptr<RoomEvents> events);

 private:
  boost::asio::awaitable<net::Response> PostFilter(net::Request& req);
  boost::asio::awaitable<net::Response> GetFilter(net::Request& req);
  boost::asio::awaitable<net::Response> PutAccountData(net::Request& req, bool per_room);
  boost::asio::awaitable<net::Response> GetAccountData(net::Request& req, bool per_room);
  boost::asio::awaitable<net::Response> GetProfile(net::Request& req, std::string field);
  boost::asio::awaitable<net::Response> PutProfile(net::Request& req, std::string field);
  boost::asio::awaitable<net::Response> GetTags(net::Request& req);
  boost::asio::awaitable<net::Response> EditTag(net::Request& req, bool put);
  // GET /pushrules/, /pushrules/global/ and one rule or one rule's attribute.
  boost::asio::awaitable<net::Response> GetPushRules(net::Request& req, std::string what);
  // PUT/DELETE of a rule, PUT of its enabled flag or actions (`what` = "", "enabled", "actions").
  boost::asio::awaitable<net::Response> EditPushRule(net::Request& req, std::string what,
                                                     bool remove);

  // Reads one account data document, changes it with `edit` and writes it back, all inside one
  // store write (two concurrent edits never lose each other's change); then wakes the user's
  // syncs. `edit` receives the stored content, or nullopt. Fails when `room_id` is set and the
  // user is not joined to it.
  using AccountDataEdit = std::function<Result<json::object>(std::optional<json::object>)>;
  boost::asio::awaitable<Result<void>> EditAccountData(std::string user, std::string room_id,
                                                       std::string type, AccountDataEdit edit);
  // The user's push rules: the stored set, or the spec's defaults.
  Result<json::object> PushRulesOf(const auth::Session& session);

  MatrixDeps deps_;
  Notifier& notifier_;
  std::shared_ptr<RoomEvents> events_;
};

}  // namespace ruche::matrix
