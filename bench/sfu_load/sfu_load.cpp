// ruche_sfu_load — the media side of the SFU benchmark: many WebRTC peer connections in one
// epoll thread, driven over stdin/stdout by bench/sfu_load/driver.mjs, which does the
// signalling with Ruche or Janus. Protocol (JSON lines) in README.md.
#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "../fanout/stats.hpp"
#include "peer_connection.hpp"

namespace ruche::bench {
namespace {

namespace json = boost::json;

void Emit(const json::object& event) {
  std::string line = json::serialize(event);
  line += '\n';
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fflush(stdout);
}

void EmitError(const std::string& pc, const std::string& why) {
  Emit({{"ev", "failed"}, {"pc", pc}, {"reason", why}});
}

double Percentile(std::vector<int64_t>& values, double q) {
  if (values.empty()) {
    return 0;
  }
  size_t k =
      std::min(values.size() - 1, static_cast<size_t>(q * static_cast<double>(values.size())));
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(k), values.end());
  return static_cast<double>(values[k]) / 1000.0;  // µs
}

class LoadClient {
 public:
  LoadClient(std::string bind_ip, uint32_t sample_every)
      : bind_ip_(std::move(bind_ip)), sample_every_(sample_every), epfd_(epoll_create1(0)) {
    auto context = rtc::DtlsContext::Create();
    if (!context) {
      std::fprintf(stderr, "sfu_load: %s\n", context.error().message.c_str());
      std::exit(1);
    }
    dtls_context_ = *context;
    Watch(STDIN_FILENO);
    last_cpu_ = SelfCpuSeconds();
  }

  int Run() {
    epoll_event events[64];
    while (!quit_) {
      int timeout_ms = media_started_ ? 1 : 10;
      int n = epoll_wait(epfd_, events, 64, timeout_ms);
      if (n < 0 && errno != EINTR) {
        std::perror("epoll_wait");
        return 1;
      }
      for (int i = 0; i < n; ++i) {
        int fd = events[i].data.fd;
        if (fd == STDIN_FILENO) {
          ReadCommands();
        } else if (auto it = by_fd_.find(fd); it != by_fd_.end()) {
          it->second->OnReadable(receive_, send_, sample_every_);
          Report(*it->second);
        }
      }
      int64_t now = NowNs();
      for (auto& [name, pc] : peers_) {
        pc->OnTimer(now);
        pc->SendMedia(now, video_kbps_, send_);
        Report(*pc);
      }
    }
    return 0;
  }

 private:
  void Watch(int fd) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev);
  }

  // Tells the driver once about a connection that came up or failed.
  void Report(PeerConnection& pc) {
    if (pc.TakeConnectedEvent()) {
      Emit({{"ev", "connected"}, {"pc", pc.name()}});
    }
    if (pc.failed() && reported_failures_.insert(pc.name()).second) {
      EmitError(pc.name(), pc.failure());
    }
  }

  void ReadCommands() {
    char buf[65536];
    ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));
    if (n <= 0) {
      quit_ = true;  // the driver went away
      return;
    }
    input_.append(buf, static_cast<size_t>(n));
    size_t newline;
    while ((newline = input_.find('\n')) != std::string::npos) {
      std::string line = input_.substr(0, newline);
      input_.erase(0, newline + 1);
      if (!line.empty()) {
        Command(line);
      }
    }
  }

  void Command(const std::string& line) {
    boost::system::error_code ec;
    json::value parsed = json::parse(line, ec);
    if (ec || !parsed.is_object()) {
      EmitError("", "not a JSON object: " + line.substr(0, 80));
      return;
    }
    const json::object& c = parsed.as_object();
    auto text = [&](const char* key) -> std::string {
      const json::value* v = c.if_contains(key);
      return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
    };
    std::string cmd = text("cmd");
    std::string name = text("pc");
    if (cmd == "create_publisher" || cmd == "create_subscriber") {
      if (name.empty() || peers_.count(name) != 0) {
        EmitError(name, "a new connection needs a new name");
        return;
      }
      auto role = cmd == "create_publisher" ? PeerConnection::Role::kPublisher
                                            : PeerConnection::Role::kSubscriber;
      auto pc = std::make_unique<PeerConnection>(name, role, bind_ip_, dtls_context_);
      Watch(pc->fd());
      PeerConnection& ref = *pc;
      by_fd_[pc->fd()] = pc.get();
      peers_[name] = std::move(pc);
      if (role == PeerConnection::Role::kPublisher) {
        Emit({{"ev", "local_offer"}, {"pc", name}, {"sdp", ref.CreateOffer()}});
        return;
      }
      Answer(ref, text("sdp"));
      return;
    }
    if (cmd == "stats") {
      Stats();
      return;
    }
    if (cmd == "start_media") {
      if (const json::value* kbps = c.if_contains("video_kbps"); kbps && kbps->is_int64()) {
        video_kbps_ = static_cast<uint32_t>(std::clamp<int64_t>(kbps->as_int64(), 50, 20000));
      }
      double pacing = 0;
      if (const json::value* f = c.if_contains("pacing_factor"); f && f->is_number()) {
        pacing = std::clamp(f->to_number<double>(), 0.0, 100.0);
      }
      // Publishers start a few ms apart, as people do, rather than all on the same tick.
      int64_t start = NowNs();
      int64_t step = 33'000'000 / std::max<int64_t>(1, static_cast<int64_t>(peers_.size()));
      for (auto& [n, pc] : peers_) {
        pc->SetPacing(pacing);
        pc->StartMedia(start);
        start += step;
      }
      media_started_ = true;
      return;
    }
    if (cmd == "quit") {
      quit_ = true;
      return;
    }
    auto it = peers_.find(name);
    if (it == peers_.end()) {
      EmitError(name, "no connection of that name: " + cmd);
      return;
    }
    PeerConnection& pc = *it->second;
    if (cmd == "set_answer") {
      std::string error = pc.SetAnswer(text("sdp"));
      if (!error.empty()) {
        EmitError(name, error);
      }
    } else if (cmd == "update_offer") {
      Answer(pc, text("sdp"));
    } else if (cmd == "add_candidate") {
      pc.AddRemoteCandidate(text("candidate"));
    } else if (cmd == "close") {
      epoll_ctl(epfd_, EPOLL_CTL_DEL, pc.fd(), nullptr);
      by_fd_.erase(pc.fd());
      peers_.erase(it);
    } else {
      EmitError(name, "unknown command " + cmd);
    }
  }

  void Answer(PeerConnection& pc, const std::string& offer) {
    std::string error;
    std::string answer = pc.AnswerOffer(offer, error);
    if (!error.empty()) {
      EmitError(pc.name(), error);
      return;
    }
    Emit({{"ev", "local_answer"}, {"pc", pc.name()}, {"sdp", answer}});
  }

  void Stats() {
    double cpu = SelfCpuSeconds();
    size_t connected = 0;
    for (auto& [name, pc] : peers_) {
      connected += pc->connected() ? 1 : 0;
    }
    json::object latency{{"count", receive_.latency_ns.size()},
                         {"p50", Percentile(receive_.latency_ns, 0.50)},
                         {"p90", Percentile(receive_.latency_ns, 0.90)},
                         {"p99", Percentile(receive_.latency_ns, 0.99)},
                         {"p999", Percentile(receive_.latency_ns, 0.999)}};
    Emit({{"ev", "stats"},
          {"connections", peers_.size()},
          {"connected", connected},
          {"sent_packets", send_.packets},
          {"sent_bytes", send_.bytes},
          {"key_frames_sent", send_.key_frames},
          {"key_frame_requests", send_.key_frame_requests},
          {"nacks_received", send_.nacks},
          {"received_packets", receive_.packets},
          {"received_bytes", receive_.bytes},
          {"received_rtcp", receive_.rtcp_packets},
          {"decrypt_failures", receive_.decrypt_failures},
          {"latency_us", latency},
          {"cpu_s", cpu - last_cpu_}});
    last_cpu_ = cpu;
    receive_ = ReceiveStats{};
    receive_.latency_ns.reserve(1 << 16);
    send_ = SendStats{};
  }

  std::string bind_ip_;
  uint32_t sample_every_;
  int epfd_;
  std::shared_ptr<rtc::DtlsContext> dtls_context_;
  std::map<std::string, std::unique_ptr<PeerConnection>> peers_;
  std::map<int, PeerConnection*> by_fd_;
  std::set<std::string> reported_failures_;
  std::string input_;
  ReceiveStats receive_;
  SendStats send_;
  uint32_t video_kbps_ = 1500;
  bool media_started_ = false;
  bool quit_ = false;
  double last_cpu_ = 0;
};

}  // namespace
}  // namespace ruche::bench

int main(int argc, char** argv) {
  std::string bind_ip = "127.0.0.1";
  uint32_t sample_every = 8;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--bind") {
      bind_ip = argv[i + 1];
    } else if (flag == "--sample-every") {
      sample_every = static_cast<uint32_t>(std::max(1, std::atoi(argv[i + 1])));
    } else {
      std::fprintf(stderr, "usage: ruche_sfu_load [--bind IP] [--sample-every N]\n");
      return 2;
    }
  }
  return ruche::bench::LoadClient(bind_ip, sample_every).Run();
}
