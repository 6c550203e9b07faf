#include "meet/meet_routes.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <deque>

#include "core/clock.hpp"
#include "core/crypto.hpp"
#include "core/json.hpp"
#include "core/log.hpp"
#include "matrix/route_helpers.hpp"
#include "meet/live_meeting.hpp"
#include "meet/meeting_directory.hpp"
#include "meet/signalling_messages.hpp"
#include "net/async.hpp"
#include "net/rate_limiter.hpp"
#include "net/websocket.hpp"

namespace ruche::meet {
namespace {

namespace asio = boost::asio;
namespace json = core::json;
using net::Request;
using net::Response;

// Messages waiting for a slow browser before its connection is dropped.
constexpr size_t kMaxQueuedMessages = 1'000;

std::string ErrorMessage(const Error& e) {
  json::object o;
  o["type"] = "error";
  o["code"] = e.errcode;
  o["message"] = e.message;
  if (e.retry_after_ms > 0) {
    o["retry_after_ms"] = e.retry_after_ms;
  }
  return json::serialize(o);
}

std::string TypedMessage(std::string_view type, json::object fields = {}) {
  fields["type"] = type;
  return json::serialize(fields);
}

json::array ProducersJson(const std::vector<rtc::ProducerInfo>& producers) {
  json::array a;
  for (const auto& p : producers) {
    a.push_back(ProducerJson(p));
  }
  return a;
}

std::string SubscribeOfferMessage(const rtc::SubscribeOffer& offer) {
  json::object o;
  o["sdp"] = offer.sdp;
  json::array consumers;
  for (const auto& c : offer.consumers) {
    json::object e;
    e["mid"] = c.mid;
    e["producer_id"] = c.producer_id;
    e["participant_id"] = c.peer_id;
    e["kind"] = std::string(rtc::MediaKindName(c.kind));
    consumers.push_back(std::move(e));
  }
  o["consumers"] = std::move(consumers);
  return TypedMessage("subscribe_offer", std::move(o));
}

// The messages for one WebSocket, written in order by one writer coroutine. Push() may be
// called from any thread (SFU workers, other participants' connections).
class Outbox : public std::enable_shared_from_this<Outbox> {
 public:
  explicit Outbox(asio::any_io_executor executor) : wake_(executor), finished_(executor) {
    wake_.expires_at(asio::steady_timer::time_point::max());
    finished_.expires_at(asio::steady_timer::time_point::max());
  }

  void Push(std::string message) {
    {
      std::lock_guard lock(mu_);
      if (closed_) {
        return;
      }
      if (queue_.size() >= kMaxQueuedMessages) {
        closed_ = true;  // a browser this far behind is dropped rather than buffered for ever
        overflowed_ = true;
      } else {
        queue_.push_back(std::move(message));
      }
    }
    Wake();
  }

  void Close() {
    {
      std::lock_guard lock(mu_);
      closed_ = true;
    }
    Wake();
  }

  bool overflowed() {
    std::lock_guard lock(mu_);
    return overflowed_;
  }

  // The writer: sends until closed and drained (or the socket fails).
  asio::awaitable<void> Run(net::WebSocket& ws) {
    for (;;) {
      std::deque<std::string> batch;
      bool closed = false;
      {
        std::lock_guard lock(mu_);
        batch.swap(queue_);
        closed = closed_;
      }
      bool failed = false;
      for (auto& m : batch) {
        auto sent = co_await ws.Send(std::move(m));
        if (!sent) {
          failed = true;
          break;
        }
      }
      if (failed) {
        Close();
        break;
      }
      if (closed && batch.empty()) {
        break;
      }
      if (batch.empty()) {
        // Push() posts a cancel to this executor; it runs after this wait started, or Push's
        // message was already in the batch above. Either way nothing is missed.
        boost::system::error_code ec;
        wake_.expires_at(asio::steady_timer::time_point::max());
        co_await wake_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      }
    }
    done_ = true;
    finished_.cancel();
  }

  // Waits for Run() to finish (on the same executor).
  asio::awaitable<void> WaitFinished() {
    if (!done_) {
      boost::system::error_code ec;
      co_await finished_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
  }

 private:
  void Wake() {
    asio::post(wake_.get_executor(), [self = shared_from_this()] { self->wake_.cancel(); });
  }

  std::mutex mu_;
  std::deque<std::string> queue_;  // GUARDED_BY(mu_)
  bool closed_ = false;            // GUARDED_BY(mu_)
  bool overflowed_ = false;        // GUARDED_BY(mu_)
  asio::steady_timer wake_;
  asio::steady_timer finished_;
  bool done_ = false;  // only touched on the executor
};

class MeetApiImpl final : public MeetApi {
 public:
  explicit MeetApiImpl(MeetDeps deps)
      : deps_(deps),
        directory_(deps.store),
        create_limiter_(deps.config.limits.meetings_per_user_per_second,
                        deps.config.limits.meetings_per_user_burst) {}

  void Mount(net::Router& router) {
    router.Add("POST", "/_ruche/v1/meetings",
               [this](Request& req) -> asio::awaitable<Response> { return Create(req); });
    router.Add("GET", "/_ruche/v1/meetings/{id}",
               [this](Request& req) -> asio::awaitable<Response> { return Describe(req); });
    router.AddWebSocket("/_ruche/v1/meetings/{id}/ws",
                        [this](Request& req, net::WebSocket& ws) -> asio::awaitable<void> {
                          return Signalling(req, ws);
                        });
  }

 private:
  asio::awaitable<Response> Create(Request& req) {
    auto session = matrix::Authenticate(deps_.accounts, req);
    if (!session) {
      co_return matrix::Fail(session.error());
    }
    if (int64_t wait = create_limiter_.Take(session->user_id, core::NowMs()); wait > 0) {
      co_return matrix::Fail(Error::LimitExceeded(wait));
    }
    auto body = core::ParseJsonObject(req.body);
    if (!body) {
      co_return matrix::Fail(body.error());
    }
    auto title = core::RequireString(*body, "title");
    if (!title) {
      co_return matrix::Fail(title.error());
    }
    auto guests = core::OptBool(*body, "allow_guests");
    if (!guests) {
      co_return matrix::Fail(guests.error());
    }
    auto prepared =
        MeetingDirectory::Prepare(std::string(*title), session->user_id, guests->value_or(false));
    if (!prepared) {
      co_return matrix::Fail(prepared.error());
    }
    auto committed = co_await matrix::Commit(deps_.store, std::move(prepared->write));
    if (!committed) {
      co_return matrix::Fail(committed.error());
    }
    const CreatedMeeting& c = prepared->created;
    json::object out;
    out["id"] = c.meeting.id;
    out["url"] = "/meet/" + c.meeting.id + "?k=" + c.key;
    out["title"] = c.meeting.title;
    out["allow_guests"] = c.meeting.allow_guests;
    co_return Response::Json(out);
  }

  asio::awaitable<Response> Describe(Request& req) {
    auto meeting = directory_.Find(std::string(req.Param("id")), req.QueryParam("k").value_or(""));
    if (!meeting) {
      co_return matrix::Fail(meeting.error());
    }
    json::object out;
    out["id"] = meeting->id;
    out["title"] = meeting->title;
    out["allow_guests"] = meeting->allow_guests;
    out["participants"] = static_cast<int64_t>(live_.Participants(meeting->id));
    co_return Response::Json(out);
  }

  // Who is joining: a signed-in user (their display name from the profile) or a guest.
  Result<Participant> Identify(const Meeting& meeting, const ClientMessage& join) {
    Participant p;
    p.id = core::RandomToken(9);
    if (join.access_token) {
      auto session = deps_.accounts.Authenticate(*join.access_token);
      if (!session) {
        return session.error();
      }
      p.user_id = session->user_id;
      p.display_name = join.display_name.value_or(session->localpart);
      auto lease = deps_.store.Read();
      auto row = lease->QueryOne("SELECT displayname FROM profiles WHERE localpart = ?",
                                 {session->localpart});
      if (row && *row && !(*row)->Text(0).empty() && !join.display_name) {
        p.display_name = (*row)->Text(0);
      }
      return p;
    }
    if (!meeting.allow_guests) {
      return Error::Forbidden("this meeting does not admit guests: sign in to join");
    }
    p.display_name = *join.display_name;
    return p;
  }

  // Publishes the peer's new producers and tells everyone else about them.
  void AnnounceProducers(const std::shared_ptr<LiveMeeting>& live, const std::string& pid,
                         const rtc::PublishResult& result) {
    auto added = live->SetProducers(pid, result.producers);
    for (const auto& p : added) {
      json::object o;
      o["producer"] = ProducerJson(p);
      live->Broadcast(TypedMessage("producer_added", std::move(o)), pid);
    }
    AnnounceRemoved(live, pid, result.removed_producer_ids);
  }

  // Tells everyone that producers went away; their receive connections get new offers.
  void AnnounceRemoved(const std::shared_ptr<LiveMeeting>& live, const std::string& except,
                       const std::vector<std::string>& removed) {
    if (removed.empty()) {
      return;
    }
    live->RemoveProducers(removed);
    for (const auto& id : removed) {
      json::object o;
      o["producer_id"] = id;
      live->Broadcast(TypedMessage("producer_removed", std::move(o)), except);
    }
    std::weak_ptr<LiveMeeting> weak = live;
    for (const auto& other : live->ParticipantIdsExcept(except)) {
      deps_.sfu.UpdateSubscriptions(live->id(), other, {}, removed,
                                    [weak, other](Result<std::optional<rtc::SubscribeOffer>> r) {
                                      auto m = weak.lock();
                                      if (m && r && *r) {
                                        m->SendTo(other, SubscribeOfferMessage(**r));
                                      }
                                    });
    }
  }

  struct Admission {
    std::shared_ptr<LiveMeeting> live;
    Participant who;
  };
  // Checks the first message (a join with the meeting's key, and who is joining) and adds the
  // participant to the live meeting.
  Result<Admission> Admit(const std::string& meeting_id, const std::string& first,
                          const std::shared_ptr<Outbox>& outbox) {
    auto join = ParseClientMessage(first);
    if (!join) {
      return join.error();
    }
    if (join->type != ClientMessage::Type::kJoin) {
      return Error::BadRequest("the first message must be a join", "M_INVALID_PARAM");
    }
    auto meeting = directory_.Find(meeting_id, join->key);
    if (!meeting) {
      return meeting.error();
    }
    auto who = Identify(*meeting, *join);
    if (!who) {
      return who.error();
    }
    std::weak_ptr<Outbox> weak_outbox = outbox;
    auto send = [weak_outbox](std::string message) {
      if (auto o = weak_outbox.lock()) {
        o->Push(std::move(message));
      }
    };
    auto joined = live_.Join(meeting_id, *who, meeting->title, send,
                             static_cast<size_t>(deps_.config.limits.meeting_participants));
    if (!joined) {
      return joined.error();
    }
    return Admission{std::move(*joined), std::move(*who)};
  }

  // Runs one client request; errors go back as `error` messages.
  asio::awaitable<void> Handle(const ClientMessage& msg, const std::shared_ptr<LiveMeeting>& live,
                               const std::string& pid, Outbox& outbox) {
    const std::string& room = live->id();
    switch (msg.type) {
      case ClientMessage::Type::kPublish: {
        std::string sdp = msg.sdp;
        auto result = co_await net::AwaitCallback<Result<rtc::PublishResult>>(
            [&](auto done) { deps_.sfu.Publish(room, pid, std::move(sdp), std::move(done)); });
        if (!result) {
          outbox.Push(ErrorMessage(result.error()));
          co_return;
        }
        json::object o;
        o["sdp"] = result->answer_sdp;
        o["producers"] = ProducersJson(result->producers);
        outbox.Push(TypedMessage("publish_answer", std::move(o)));
        AnnounceProducers(live, pid, *result);
        co_return;
      }
      case ClientMessage::Type::kSubscribe:
      case ClientMessage::Type::kUnsubscribe: {
        bool add = msg.type == ClientMessage::Type::kSubscribe;
        std::vector<std::string> ids = msg.producer_ids;
        std::vector<std::string> none;
        auto offer =
            co_await net::AwaitCallback<Result<std::optional<rtc::SubscribeOffer>>>([&](auto done) {
              deps_.sfu.UpdateSubscriptions(room, pid, add ? std::move(ids) : none,
                                            add ? none : std::move(ids), std::move(done));
            });
        if (!offer) {
          outbox.Push(ErrorMessage(offer.error()));
        } else if (*offer) {
          outbox.Push(SubscribeOfferMessage(**offer));
        }
        co_return;
      }
      case ClientMessage::Type::kSubscribeAnswer: {
        std::string sdp = msg.sdp;
        auto next =
            co_await net::AwaitCallback<Result<std::optional<rtc::SubscribeOffer>>>([&](auto done) {
              deps_.sfu.AnswerSubscription(room, pid, std::move(sdp), std::move(done));
            });
        if (!next) {
          outbox.Push(ErrorMessage(next.error()));
        } else if (*next) {
          outbox.Push(SubscribeOfferMessage(**next));
        }
        co_return;
      }
      case ClientMessage::Type::kMute: {
        if (auto p = live->SetMuted(pid, msg.audio_muted, msg.video_muted)) {
          json::object o;
          o["participant"] = ParticipantJson(*p);
          live->Broadcast(TypedMessage("participant_updated", std::move(o)));
        }
        co_return;
      }
      case ClientMessage::Type::kPreferredLayer:
        deps_.sfu.SetPreferredLayer(room, pid, msg.producer_id, msg.spatial_layer);
        co_return;
      case ClientMessage::Type::kJoin:
        outbox.Push(ErrorMessage(Error::BadRequest("already joined", "M_INVALID_PARAM")));
        co_return;
      case ClientMessage::Type::kLeave:
        co_return;
    }
  }

  asio::awaitable<void> Signalling(Request& req, net::WebSocket& ws) {
    std::string meeting_id(req.Param("id"));
    auto first = co_await ws.Read();
    if (!first) {
      co_return;
    }
    auto executor = co_await asio::this_coro::executor;
    auto outbox = std::make_shared<Outbox>(executor);
    // NOTE: plain ifs, not ?:, to build these Results: gcc 12 miscompiles non-trivial
    // temporaries of conditional expressions inside coroutines.
    auto admitted = Admit(meeting_id, *first, outbox);
    if (!admitted) {
      std::string refusal = ErrorMessage(admitted.error());
      (void)co_await ws.Send(refusal);
      co_await ws.Close(1008, "join refused");
      co_return;
    }
    auto& [live, who] = *admitted;
    const std::string pid = who.id;
    rtc::PeerEvents peer_events{
        .on_transport_closed = [weak_outbox = std::weak_ptr<Outbox>(outbox)](std::string reason) {
          if (auto o = weak_outbox.lock()) {
            o->Push(ErrorMessage(Error::Unavailable("media connection closed: " + reason)));
          }
        }};
    std::weak_ptr<LiveMeeting> speaker_target = live;
    rtc::RoomEvents room_events{.on_active_speaker = [speaker_target](std::string peer_id) {
      if (auto m = speaker_target.lock()) {
        json::object o;
        o["participant_id"] = peer_id;
        m->Broadcast(TypedMessage("active_speaker", std::move(o)));
      }
    }};
    co_await net::AwaitCallback<bool>([&](auto done) {
      deps_.sfu.AddPeer(meeting_id, pid, std::move(peer_events), std::move(room_events),
                        [done] { done(true); });
    });
    {
      json::object o;
      o["participant"] = ParticipantJson(who);
      live->Broadcast(TypedMessage("participant_joined", std::move(o)), pid);
    }
    RUCHE_LOG_INFO("meet: {} joined meeting {} as {}", who.guest() ? "a guest" : who.user_id,
                   meeting_id, pid);
    const bool tell_presence = !who.guest() && deps_.in_meeting;
    if (tell_presence) {
      co_await deps_.in_meeting(who.user_id, true);
    }

    asio::co_spawn(executor, outbox->Run(ws), asio::detached);
    net::RateLimiter limiter(deps_.config.limits.signalling_per_connection_per_second,
                             deps_.config.limits.signalling_per_connection_burst, 1);
    for (;;) {
      auto text = co_await ws.Read();
      if (!text || outbox->overflowed()) {
        break;
      }
      if (int64_t wait = limiter.Take("c", core::NowMs()); wait > 0) {
        outbox->Push(ErrorMessage(Error::LimitExceeded(wait)));
        continue;
      }
      auto msg = ParseClientMessage(*text);
      if (!msg) {
        outbox->Push(ErrorMessage(msg.error()));
        continue;
      }
      if (msg->type == ClientMessage::Type::kLeave) {
        break;
      }
      co_await Handle(*msg, live, pid, *outbox);
    }

    // Leaving: out of the meeting first (no more messages for us), then out of the SFU.
    live_.Leave(meeting_id, pid);
    {
      json::object o;
      o["participant_id"] = pid;
      live->Broadcast(TypedMessage("participant_left", std::move(o)));
    }
    auto removed = co_await net::AwaitCallback<std::vector<std::string>>(
        [&](auto done) { deps_.sfu.RemovePeer(meeting_id, pid, std::move(done)); });
    AnnounceRemoved(live, pid, removed);
    if (tell_presence) {
      co_await deps_.in_meeting(who.user_id, false);
    }
    outbox->Close();
    co_await outbox->WaitFinished();
    co_await ws.Close(1000, "left");
    RUCHE_LOG_INFO("meet: {} left meeting {}", pid, meeting_id);
  }

  MeetDeps deps_;
  MeetingDirectory directory_;
  LiveMeetings live_;
  net::RateLimiter create_limiter_;
};

}  // namespace

std::unique_ptr<MeetApi> MountMeetApi(net::Router& router, MeetDeps deps) {
  auto api = std::make_unique<MeetApiImpl>(deps);
  api->Mount(router);
  return api;
}

}  // namespace ruche::meet
