// ruche_loadgen — the chat figures of the Team chat core issue (see bench/README.md).
//   --mode=matrix  N members each holding a /sync long-poll, one sender at rising rates
//   --mode=xmpp    the same room, members and rates against an XMPP server's MUC (ejabberd)
//   --mode=send    S concurrent senders, closed loop: committed events/s through PUT /send
// One thread, epoll, hand-written HTTP/1.1 keep-alive and XMPP, so that the generator is not the
// bottleneck (its own CPU seconds are printed beside the server's). Prints one "STEP ..." or
// "SEND ..." line per measurement; bench/fanout.sh turns them into tables.
#include <signal.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "http_conn.hpp"
#include "loop.hpp"
#include "stats.hpp"
#include "xmpp_conn.hpp"

namespace ruche::bench {
namespace {

struct Options {
  std::string mode = "matrix";
  uint16_t port = 8008;
  pid_t pid = 0;         // server process whose CPU and RSS are sampled
  int connected = 1000;  // members holding a long-poll (receivers)
  int users = 0;         // registered users; 0 = connected + 1 (the sender)
  int rooms = 1;         // receivers spread round-robin; the sender is in all of them
  std::vector<double> rates{10, 50, 100, 200, 500};
  double step_s = 10;
  double drain_s = 3;        // after a step's last send, how long deliveries may still come
  double max_p99_ms = 2000;  // stop rising once a step is past this, or loses deliveries
  int setup_concurrency = 32;
  int sender_conns = 4;  // Matrix: the one sender's keep-alive connections
  int timeline_limit = 10;
  // --mode=matrix: the messages come from the receivers themselves in turn (each into its own
  // room, with its own token) instead of from one extra user: every client syncs and sends.
  bool clients_send = false;
  int senders = 32;        // --mode=send
  double duration_s = 10;  // --mode=send
  double setup_timeout_s = 900;
  std::string password = "bench-password-1";
  std::string domain = "localhost";
  std::string muc = "conference.localhost";
};

Options ParseOptions(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    size_t eq = a.find('=');
    if (a.rfind("--", 0) != 0 || eq == std::string::npos) {
      Fatal("arguments are --key=value, got " + a);
    }
    std::string k = a.substr(2, eq - 2), v = a.substr(eq + 1);
    auto num = [&] { return std::stod(v); };
    if (k == "mode") {
      o.mode = v;
    } else if (k == "port") {
      o.port = static_cast<uint16_t>(num());
    } else if (k == "pid") {
      o.pid = static_cast<pid_t>(num());
    } else if (k == "connected") {
      o.connected = static_cast<int>(num());
    } else if (k == "users") {
      o.users = static_cast<int>(num());
    } else if (k == "rooms") {
      o.rooms = static_cast<int>(num());
    } else if (k == "rates") {
      o.rates.clear();
      for (size_t p = 0; p < v.size();) {
        size_t c = v.find(',', p);
        o.rates.push_back(std::stod(v.substr(p, c - p)));
        p = c == std::string::npos ? v.size() : c + 1;
      }
    } else if (k == "step-s") {
      o.step_s = num();
    } else if (k == "drain-s") {
      o.drain_s = num();
    } else if (k == "max-p99-ms") {
      o.max_p99_ms = num();
    } else if (k == "setup-concurrency") {
      o.setup_concurrency = static_cast<int>(num());
    } else if (k == "sender-conns") {
      o.sender_conns = static_cast<int>(num());
    } else if (k == "timeline-limit") {
      o.timeline_limit = static_cast<int>(num());
    } else if (k == "clients-send") {
      o.clients_send = num() != 0;
    } else if (k == "senders") {
      o.senders = static_cast<int>(num());
    } else if (k == "duration-s") {
      o.duration_s = num();
    } else if (k == "setup-timeout-s") {
      o.setup_timeout_s = num();
    } else if (k == "domain") {
      o.domain = v;
    } else if (k == "muc") {
      o.muc = v;
    } else {
      Fatal("unknown option --" + k);
    }
  }
  // Bounds: this runs on a shared 2-core machine.
  if (o.connected < 1 || o.connected > 20000 || o.rooms < 1 || o.rooms > o.connected ||
      o.rates.empty() || o.rates.size() > 200 || o.step_s <= 0 || o.step_s > 600 || o.senders < 1 ||
      o.senders > 1000 || o.sender_conns < 1 || o.sender_conns > 64) {
    Fatal("option out of bounds");
  }
  for (double r : o.rates) {
    if (r <= 0 || r > 20000) {
      Fatal("rates are in (0, 20000] messages/s");
    }
  }
  if (o.users == 0) {
    o.users = (o.mode == "send" ? o.senders : o.connected) + 1;
  }
  if (o.users > 100000 || (o.mode != "send" && o.users < o.connected + 1)) {
    Fatal("--users must be at least --connected + 1 and at most 100000");
  }
  return o;
}

void Log(const char* fmt, const std::string& a = "", double b = 0) {
  std::fprintf(stderr, "[%8.3f] ", NowUs() / 1e6);
  std::fprintf(stderr, fmt, a.c_str(), b);
  std::fputc('\n', stderr);
}

int64_t Deadline(double s) { return NowUs() + static_cast<int64_t>(s * 1e6); }

// Keeps dispatching events for `s` seconds.
void Settle(Loop& loop, double s) {
  int64_t until = Deadline(s);
  loop.RunUntil([until] { return NowUs() >= until; }, until + 60'000'000, [] {}, 10'000);
}

// Runs start(i, done) for i in [0, n) with at most `concurrency` in flight.
void ForEach(Loop& loop, size_t n, size_t concurrency, double timeout_s,
             const std::function<void(size_t, std::function<void()>)>& start) {
  size_t next = 0, finished = 0, in_flight = 0;
  std::function<void()> pump;
  pump = [&] {
    while (in_flight < concurrency && next < n) {
      ++in_flight;
      size_t i = next++;
      start(i, [&] {
        --in_flight;
        ++finished;
      });
    }
  };
  loop.RunUntil([&] { return finished == n; }, Deadline(timeout_s), pump, 1000);
}

// ---- Steps: one sender at rising rates; the modes supply send() and the deliveries ----

std::vector<Step> g_steps;

// Body of every bench message: its step and its send time, read back by the receivers.
std::string Stamp(size_t step) {
  return "bench " + std::to_string(step) + " " + std::to_string(NowUs());
}

// Parses "bench <step> <us>" at `p` (just after "bench ") and records one delivery.
void RecordDelivery(std::string_view text, size_t p, int64_t now) {
  size_t step = 0;
  int64_t sent = 0;
  auto r1 = std::from_chars(text.data() + p, text.data() + text.size(), step);
  if (r1.ec != std::errc() || r1.ptr >= text.data() + text.size()) {
    return;
  }
  auto r2 = std::from_chars(r1.ptr + 1, text.data() + text.size(), sent);
  if (r2.ec != std::errc() || step >= g_steps.size()) {
    return;
  }
  Step& s = g_steps[step];
  ++s.delivered;
  s.last_delivery_us = now;
  s.latency_us.push_back(static_cast<uint32_t>(std::clamp<int64_t>(now - sent, 0, 4'000'000'000)));
}

// Runs every rate; send(step, seq) must queue one message; fanout(seq) is how many receivers
// it should reach; backlog() how many are queued but not written yet.
void RunSteps(Loop& loop, const Options& o, const std::string& mode,
              const std::function<void(size_t, int64_t)>& send,
              const std::function<int64_t(int64_t)>& fanout,
              const std::function<size_t()>& backlog) {
  g_steps.reserve(o.rates.size());
  int64_t seq = 0;
  for (double rate : o.rates) {
    size_t idx = g_steps.size();
    g_steps.emplace_back();
    Step& s = g_steps.back();
    s.rate = rate;
    s.before = SampleProc(o.pid);
    double gen0 = SelfCpuSeconds();
    s.start_us = NowUs();
    int64_t step_end = s.start_us + static_cast<int64_t>(o.step_s * 1e6);
    int64_t scheduled = 0;
    loop.RunUntil([&] { return NowUs() >= step_end; }, step_end + 60'000'000,
                  [&] {
                    int64_t due = static_cast<int64_t>((NowUs() - s.start_us) * rate / 1e6);
                    while (scheduled < due) {
                      send(idx, seq);
                      s.expected += fanout(seq);
                      ++seq;
                      ++scheduled;
                    }
                  });
    s.send_end_us = NowUs();
    int64_t drain_end = s.send_end_us + static_cast<int64_t>(o.drain_s * 1e6);
    loop.RunUntil(
        [&] { return (s.delivered >= s.expected && backlog() == 0) || NowUs() >= drain_end; },
        drain_end + 60'000'000, [] {}, 10'000);
    s.end_us = NowUs();
    s.after = SampleProc(o.pid);
    s.gen_cpu_s = SelfCpuSeconds() - gen0;
    PrintStep(mode, s);
    std::vector<uint32_t> lat = s.latency_us;
    double p99 = QuantileMs(lat, 0.99);
    if (p99 > o.max_p99_ms || s.delivered < s.expected * 95 / 100) {
      Log("%s: stopping the rise: saturated (p99 %.0f ms or deliveries lost)", mode, p99);
      break;
    }
  }
}

// ---- Matrix ----

struct MatrixUser {
  std::string name, token;
};

class MatrixBench {
 public:
  explicit MatrixBench(const Options& o) : o_(o) {}

  void Setup() {
    for (int i = 0; i < o_.setup_concurrency; ++i) {
      pool_.push_back(std::make_unique<HttpConn>());
      pool_.back()->Connect(loop_, o_.port);
    }
    users_.resize(o_.users);
    Log("matrix: registering %s users", std::to_string(o_.users));
    ForEach(loop_, users_.size(), pool_.size(), o_.setup_timeout_s, [&](size_t i, auto done) {
      users_[i].name = "bench" + std::to_string(i);
      std::string body = "{\"username\":\"" + users_[i].name + "\",\"password\":\"" + o_.password +
                         "\",\"auth\":{\"type\":\"m.login.dummy\"}}";
      Pool(i).Request("POST", "/_matrix/client/v3/register", "", body,
                      [this, i, done](int status, std::string_view resp) {
                        Check(status, resp, "register");
                        users_[i].token = JsonString(resp, "access_token");
                        done();
                      });
    });
    int n_rooms = o_.mode == "send" ? std::min(o_.rooms, o_.senders) : o_.rooms;
    rooms_.resize(n_rooms);
    Log("matrix: creating %s rooms", std::to_string(n_rooms));
    ForEach(loop_, rooms_.size(), pool_.size(), o_.setup_timeout_s, [&](size_t r, auto done) {
      std::string body =
          "{\"preset\":\"public_chat\",\"name\":\"bench " + std::to_string(r) + "\"}";
      Pool(r).Request("POST", "/_matrix/client/v3/createRoom", users_[0].token, body,
                      [this, r, done](int status, std::string_view resp) {
                        Check(status, resp, "createRoom");
                        rooms_[r] = JsonString(resp, "room_id");
                        done();
                      });
    });
    // Every other user joins one room, round-robin; user i's room is (i - 1) % rooms.
    connected_in_room_.assign(rooms_.size(), 0);
    Log("matrix: joining %s users", std::to_string(o_.users - 1));
    ForEach(loop_, users_.size() - 1, pool_.size(), o_.setup_timeout_s, [&](size_t k, auto done) {
      size_t i = k + 1;
      std::string target = "/_matrix/client/v3/join/" + UrlEncode(rooms_[RoomOf(i)]);
      Pool(k).Request("POST", target, users_[i].token, "{}",
                      [this, done](int status, std::string_view resp) {
                        Check(status, resp, "join");
                        done();
                      });
    });
    // One sync after the set-up gives the stream position every long-poll starts from.
    filter_ = UrlEncode("{\"room\":{\"timeline\":{\"limit\":" + std::to_string(o_.timeline_limit) +
                        "},\"state\":{\"lazy_load_members\":true}},\"presence\":{\"types\":[]}}");
    bool synced = false;
    Pool(0).Request("GET", "/_matrix/client/v3/sync?timeout=0&filter=" + filter_, users_[0].token,
                    "", [&](int status, std::string_view resp) {
                      Check(status, resp, "sync");
                      since_ = JsonString(resp, "next_batch");
                      synced = true;
                    });
    loop_.RunUntil([&] { return synced; }, Deadline(o_.setup_timeout_s));
  }

  void RunFanout() {
    // The set-up's connections are done: left open and idle they would meet the server's
    // keep-alive timeout (a close the generator takes for a failure) during a long run.
    pool_.clear();
    Log("matrix: %s long-polls", std::to_string(o_.connected));
    for (int i = 1; i <= o_.connected; ++i) {
      ++connected_in_room_[RoomOf(i)];
      receivers_.push_back(std::make_unique<HttpConn>());
      receivers_.back()->Connect(loop_, o_.port);
      Poll(static_cast<size_t>(i - 1), since_);
    }
    // Let every long-poll reach the server and park before the first message.
    Settle(loop_, 2);
    for (int i = 0; i < o_.sender_conns; ++i) {
      senders_.push_back(std::make_unique<HttpConn>());
      senders_.back()->Connect(loop_, o_.port);
      free_senders_.push_back(senders_.back().get());
    }
    RunSteps(
        loop_, o_, "matrix",
        [this](size_t step, int64_t seq) {
          queue_.emplace_back(step, seq);
          Pump();
        },
        [this](int64_t seq) { return connected_in_room_[RoomOfMessage(seq)]; },
        [this] { return queue_.size(); });
  }

  void RunSend() {
    // Closed loop: each sender writes its next event as soon as the previous one is committed.
    std::vector<std::unique_ptr<HttpConn>> conns;
    int64_t committed = 0, txn = 0;
    bool stop = false;
    std::vector<uint32_t> latency;
    std::function<void(size_t)> next = [&](size_t k) {
      if (stop) {
        return;
      }
      size_t user = k + 1;
      std::string target = "/_matrix/client/v3/rooms/" + UrlEncode(rooms_[RoomOf(user)]) +
                           "/send/m.room.message/s" + std::to_string(txn++);
      int64_t t0 = NowUs();
      conns[k]->Request("PUT", target, users_[user].token,
                        "{\"msgtype\":\"m.text\",\"body\":\"" + Stamp(0) + "\"}",
                        [&, k, t0](int status, std::string_view resp) {
                          Check(status, resp, "send");
                          ++committed;
                          latency.push_back(static_cast<uint32_t>(NowUs() - t0));
                          next(k);
                        });
    };
    for (int k = 0; k < o_.senders; ++k) {
      conns.push_back(std::make_unique<HttpConn>());
      conns.back()->Connect(loop_, o_.port);
    }
    Settle(loop_, 0.5);
    ProcSample before = SampleProc(o_.pid);
    int64_t start = NowUs();
    for (int k = 0; k < o_.senders; ++k) {
      next(static_cast<size_t>(k));
    }
    int64_t end = start + static_cast<int64_t>(o_.duration_s * 1e6);
    loop_.RunUntil([&] { return NowUs() >= end; }, end + 60'000'000, [] {}, 10'000);
    stop = true;
    double secs = (NowUs() - start) / 1e6;
    ProcSample after = SampleProc(o_.pid);
    int64_t counted = committed;
    loop_.RunUntil(
        [&] { return std::all_of(conns.begin(), conns.end(), [](auto& c) { return c->idle(); }); },
        Deadline(60));
    std::printf(
        "SEND senders=%d rooms=%zu committed=%lld seconds=%.2f committed_per_s=%.0f "
        "p50_ms=%.2f p99_ms=%.2f server_cpu_s=%.2f rss_mib=%.1f\n",
        o_.senders, rooms_.size(), static_cast<long long>(counted), secs, counted / secs,
        QuantileMs(latency, 0.5), QuantileMs(latency, 0.99), after.cpu_s - before.cpu_s,
        after.rss_kib / 1024.0);
  }

 private:
  size_t RoomOf(size_t user) const { return (user - 1) % rooms_.size(); }
  // Message `seq`'s sender: user 0 (in every room), or with --clients-send the receivers in turn
  // (each posts into its own room; it receives its message too, as Matrix clients do).
  size_t SenderOf(int64_t seq) const {
    return o_.clients_send ? 1 + static_cast<size_t>(seq) % static_cast<size_t>(o_.connected) : 0;
  }
  size_t RoomOfMessage(int64_t seq) const {
    return o_.clients_send ? RoomOf(SenderOf(seq)) : static_cast<size_t>(seq) % rooms_.size();
  }
  HttpConn& Pool(size_t i) { return *pool_[i % pool_.size()]; }

  static void Check(int status, std::string_view resp, const char* what) {
    if (status != 200) {
      Fatal(std::string(what) + " answered " + std::to_string(status) + ": " +
            std::string(resp.substr(0, 300)));
    }
  }

  void Poll(size_t r, const std::string& since) {
    std::string target =
        "/_matrix/client/v3/sync?timeout=30000&since=" + UrlEncode(since) + "&filter=" + filter_;
    receivers_[r]->Request("GET", target, users_[r + 1].token, "",
                           [this, r](int status, std::string_view resp) {
                             Check(status, resp, "sync");
                             int64_t now = NowUs();
                             static constexpr std::string_view kBody = "\"body\":\"bench ";
                             for (size_t p = resp.find(kBody); p != std::string_view::npos;
                                  p = resp.find(kBody, p + 1)) {
                               RecordDelivery(resp, p + kBody.size(), now);
                             }
                             if (!g_steps.empty()) {
                               ++g_steps.back().responses;
                               if (resp.find("\"limited\":true") != std::string_view::npos) {
                                 ++g_steps.back().limited;
                               }
                             }
                             Poll(r, JsonString(resp, "next_batch"));
                           });
  }

  // Writes queued messages on free sender connections, stamping each as it leaves.
  void Pump() {
    while (!queue_.empty() && !free_senders_.empty()) {
      auto [step, seq] = queue_.front();
      queue_.pop_front();
      // Oldest free first, so every sender connection keeps being used: one left unused past
      // the server's header timeout (10 s) is closed by it, as a slow client would be.
      HttpConn* c = free_senders_.front();
      free_senders_.pop_front();
      std::string target = "/_matrix/client/v3/rooms/" + UrlEncode(rooms_[RoomOfMessage(seq)]) +
                           "/send/m.room.message/m" + std::to_string(seq);
      ++g_steps[step].sent;
      c->Request("PUT", target, users_[SenderOf(seq)].token,
                 "{\"msgtype\":\"m.text\",\"body\":\"" + Stamp(step) + "\"}",
                 [this, c, step](int status, std::string_view resp) {
                   Check(status, resp, "send");
                   ++g_steps[step].acked;
                   free_senders_.push_back(c);
                   Pump();
                 });
    }
  }

  const Options& o_;
  Loop loop_;
  std::vector<std::unique_ptr<HttpConn>> pool_, receivers_, senders_;
  std::deque<HttpConn*> free_senders_;
  std::deque<std::pair<size_t, int64_t>> queue_;
  std::vector<MatrixUser> users_;
  std::vector<std::string> rooms_;
  std::vector<int64_t> connected_in_room_;
  std::string filter_, since_;
};

// ---- XMPP (MUC) ----

class XmppBench {
 public:
  explicit XmppBench(const Options& o) : o_(o) {}

  void Run() {
    // The sender joins first and unlocks the room (XEP-0045 §10.1.2 instant room), then the
    // members join, `setup_concurrency` at a time.
    clients_.resize(static_cast<size_t>(o_.connected) + 1);
    room_ = "bench@" + o_.muc;
    Log("xmpp: registering and joining %s users", std::to_string(clients_.size()));
    ForEach(loop_, 1, 1, o_.setup_timeout_s, [&](size_t, auto done) { Start(0, done); });
    ForEach(loop_, clients_.size() - 1, static_cast<size_t>(o_.setup_concurrency),
            o_.setup_timeout_s, [&](size_t k, auto done) { Start(k + 1, done); });
    // Presence broadcasts of the last joins settle before the first message.
    Settle(loop_, 2);
    int64_t members = o_.connected;
    RunSteps(
        loop_, o_, "xmpp",
        [this](size_t step, int64_t) {
          ++g_steps[step].sent;
          clients_[0]->Write("<message to='" + room_ + "' type='groupchat'><body>" + Stamp(step) +
                             "</body></message>");
        },
        [members](int64_t) { return members; }, [] { return size_t{0}; });
  }

 private:
  void Start(size_t i, std::function<void()> done) {
    auto c = std::make_unique<XmppConn>("bench" + std::to_string(i), o_.password, o_.domain, room_,
                                        i == 0, std::move(done), i == 0 ? nullptr : RecordDelivery);
    c->Connect(loop_, o_.port);
    c->Begin();
    clients_[i] = std::move(c);
  }

  const Options& o_;
  Loop loop_;
  std::vector<std::unique_ptr<XmppConn>> clients_;
  std::string room_;
};

}  // namespace
}  // namespace ruche::bench

int main(int argc, char** argv) {
  using namespace ruche::bench;
  signal(SIGPIPE, SIG_IGN);
  Options o = ParseOptions(argc, argv);
  if (o.mode == "matrix") {
    MatrixBench b(o);
    b.Setup();
    b.RunFanout();
  } else if (o.mode == "send") {
    MatrixBench b(o);
    b.Setup();
    b.RunSend();
  } else if (o.mode == "xmpp") {
    XmppBench b(o);
    b.Run();
  } else {
    Fatal("--mode is matrix, xmpp or send");
  }
  return 0;
}
