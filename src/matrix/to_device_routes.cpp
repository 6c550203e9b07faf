#include "matrix/to_device_routes.hpp"

#include "auth/accounts.hpp"
#include "core/clock.hpp"
#include "matrix/notifier.hpp"
#include "matrix/route_helpers.hpp"

namespace ruche::matrix {

namespace asio = boost::asio;
using net::Request;
using net::Response;

namespace {

constexpr size_t kMaxEventType = 255;
constexpr size_t kMaxTxnId = 255;
// Bytes one request may queue in all (a message to "*" is stored once per device).
constexpr size_t kMaxQueuedBytesPerRequest = 16 * 1024 * 1024;
constexpr size_t kMaxTargetsPerRequest = 10'000;

struct Message {
  std::string user, device;  // device "*": every device of the user
  std::string content;
};

}  // namespace

ToDeviceRoutes::ToDeviceRoutes(net::Router& router, MatrixDeps deps, DeviceKeys& keys)
    : deps_(deps),
      keys_(keys),
      per_user_(deps.config.limits.to_device_per_user_per_second,
                deps.config.limits.to_device_per_user_burst) {
  AddClientRoute(router, "PUT", "/sendToDevice/{eventType}/{txnId}",
                 [this](Request& r) { return Send(r); });
}

asio::awaitable<Response> ToDeviceRoutes::Send(Request& req) {
  auto session = Authenticate(deps_.accounts, req);
  if (!session) {
    co_return Fail(session.error());
  }
  std::string type(req.Param("eventType")), txn(req.Param("txnId"));
  if (type.empty() || type.size() > kMaxEventType || txn.size() > kMaxTxnId) {
    co_return Fail(
        core::Error::BadRequest("Invalid event type or transaction ID", "M_INVALID_PARAM"));
  }
  auto body = core::ParseJsonObject(req.body);
  if (!body) {
    co_return Fail(body.error());
  }
  const json::value* messages = body->if_contains("messages");
  if (!messages || !messages->is_object()) {
    co_return Fail(core::Error::BadRequest("'messages' is required", "M_MISSING_PARAM"));
  }
  std::vector<Message> queue;
  const std::string suffix = ":" + deps_.accounts.server_name();
  for (const auto& [user, devices] : messages->get_object()) {
    if (!devices.is_object()) {
      co_return Fail(core::Error::BadRequest("'messages' must map users to devices"));
    }
    bool local = user.size() > suffix.size() + 1 && user.front() == '@' &&
                 std::string_view(user).ends_with(suffix);
    for (const auto& [device, content] : devices.get_object()) {
      if (!content.is_object()) {
        co_return Fail(core::Error::BadRequest("A to-device message's content is an object"));
      }
      if (local) {  // no federation yet: other servers' devices cannot be reached
        queue.push_back({std::string(user), std::string(device), json::serialize(content)});
      }
    }
  }
  if (queue.size() > kMaxTargetsPerRequest) {
    co_return Fail(core::Error::BadRequest("Too many target devices", "M_INVALID_PARAM"));
  }
  if (int64_t wait = per_user_.Take(session->user_id, core::MonotonicMs())) {
    co_return Fail(core::Error::LimitExceeded(wait));
  }

  const std::string sender = session->user_id, sender_device = session->device_id;
  const int64_t pending_limit = deps_.config.limits.to_device_pending_per_device;
  DeviceKeys& keys = keys_;
  struct Outcome {
    int64_t last_stream = 0;
    std::vector<std::string> users;
  };
  auto outcome = std::make_shared<Outcome>();
  store::WriteFn write = [&keys, sender, sender_device, type, txn, queue, pending_limit,
                          outcome](store::Connection& c) -> Result<void> {
    RUCHE_ASSIGN_OR_RETURN(
        auto seen, c.QueryOne("SELECT 1 FROM to_device_txns WHERE user_id = ? AND device_id = ? "
                              "AND txn_id = ?",
                              {sender, sender_device, txn}));
    if (seen) {
      return {};  // a retry: already queued
    }
    RUCHE_RETURN_IF_ERROR(
        c.Execute("INSERT INTO to_device_txns (user_id, device_id, txn_id) VALUES (?, ?, ?)",
                  {sender, sender_device, txn}));
    size_t queued_bytes = 0;
    std::set<std::string> users;
    for (const auto& m : queue) {
      std::vector<std::string> devices;
      if (m.device == "*") {
        RUCHE_ASSIGN_OR_RETURN(auto rows,
                               c.Query("SELECT device_id FROM devices WHERE localpart = ?",
                                       {m.user.substr(1, m.user.find(':') - 1)}));
        for (const auto& row : rows) {
          devices.push_back(row.Text(0));
        }
      } else {
        RUCHE_ASSIGN_OR_RETURN(
            auto exists, c.QueryOne("SELECT 1 FROM devices WHERE localpart = ? AND device_id = ?",
                                    {m.user.substr(1, m.user.find(':') - 1), m.device}));
        if (exists) {
          devices.push_back(m.device);
        }  // spec: unknown devices are ignored
      }
      for (const auto& device : devices) {
        queued_bytes += m.content.size();
        if (queued_bytes > kMaxQueuedBytesPerRequest) {
          return core::Error::TooLarge("The messages are too large in all");
        }
        RUCHE_ASSIGN_OR_RETURN(auto pending,
                               c.QueryOne("SELECT COUNT(*) FROM to_device WHERE user_id = ? AND "
                                          "device_id = ?",
                                          {m.user, device}));
        if (pending && pending->Int(0) >= pending_limit) {
          core::Error full = core::Error::LimitExceeded(60'000);
          full.message = "Device " + device + " of " + m.user +
                         " has too many undelivered messages; nothing was sent";
          return full;
        }
        RUCHE_ASSIGN_OR_RETURN(auto stream, keys.NextStream(c));
        RUCHE_RETURN_IF_ERROR(
            c.Execute("INSERT INTO to_device (user_id, device_id, stream_ordering, sender, type, "
                      "content) VALUES (?, ?, ?, ?, ?, ?)",
                      {m.user, device, stream, sender, type, m.content}));
        outcome->last_stream = stream;
        // Before the commit, like Notifier::NoteWrite: a sync must never pass this position
        // without looking at the device's queue.
        keys.NoteQueued(m.user, device, stream);
        users.insert(m.user);
      }
    }
    outcome->users.assign(users.begin(), users.end());
    return {};
  };
  auto r = co_await Commit(deps_.store, std::move(write));
  if (!r) {
    co_return Fail(r.error());
  }
  if (outcome->last_stream) {
    keys_.notifier().Publish(outcome->last_stream, {}, outcome->users);
  }
  co_return Response::Json(json::object{});
}

}  // namespace ruche::matrix
