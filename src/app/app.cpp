#include "app/app.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <thread>

#include "auth/accounts.hpp"
#include "cal/booking_routes.hpp"
#include "cal/caldav_routes.hpp"
#include "cal/calendar_presence.hpp"
#include "cal/event_routes.hpp"
#include "core/crypto.hpp"
#include "core/log.hpp"
#include "files/blob_store.hpp"
#include "files/thumbnailer.hpp"
#include "mail/mail_queue.hpp"
#include "matrix/client_api.hpp"
#include "matrix/device_keys.hpp"
#include "matrix/media_routes.hpp"
#include "matrix/notifier.hpp"
#include "matrix/room_events.hpp"
#include "meet/meet_routes.hpp"
#include "net/http_server.hpp"
#include "net/io_pool.hpp"
#include "net/metrics.hpp"
#include "net/router.hpp"
#include "net/static_site.hpp"
#include "rtc/sfu.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace ruche::app {
namespace fs = std::filesystem;
namespace asio = boost::asio;
using net::Request;
using net::Response;

namespace {

int IoThreads(const core::Config& config) {
  if (config.io_threads > 0) {
    return static_cast<int>(config.io_threads);
  }
  return std::max(1u, std::thread::hardware_concurrency());
}

Result<store::StorePtr> OpenStore(const core::Config& config, int read_connections) {
  std::error_code ec;
  fs::create_directories(config.data_dir, ec);
  if (ec) {
    return Error::Unavailable("cannot create data folder " + config.data_dir + ": " + ec.message());
  }
  fs::permissions(config.data_dir, fs::perms::owner_all, fs::perm_options::replace, ec);
  return store::OpenSqliteStore({(fs::path(config.data_dir) / "ruche.db").string(),
                                 read_connections,
                                 static_cast<int>(config.store.max_batch_writes)});
}

// One server per data folder: a second `ruche serve` on the same folder is refused.
Result<int> LockDataFolder(const std::string& dir) {
  std::string path = (fs::path(dir) / "ruche.lock").string();
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    return Error::Unavailable("cannot open " + path);
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);
    return Error::Unavailable("another ruche server is already using the data folder " + dir);
  }
  return fd;
}

// The built web client: the configured folder, else web/dist beside the binary's build folder
// (a source checkout), else the installed location.
std::string FindWebRoot(const core::Config& config) {
  if (!config.web_root.empty()) {
    return config.web_root;
  }
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  std::vector<fs::path> candidates;
  if (!ec) {
    candidates.push_back(exe.parent_path().parent_path() / "web" / "dist");
    candidates.push_back(exe.parent_path() / "web" / "dist");
  }
  candidates.push_back("web/dist");
  candidates.push_back("/usr/share/ruche/web");
  for (const auto& c : candidates) {
    if (fs::is_regular_file(c / "index.html", ec)) {
      return c.string();
    }
  }
  return "";
}

void BootstrapAdmin(auth::Accounts& accounts, const core::Config& config) {
  auto any = accounts.HasAnyUser();
  if (!any || *any) {
    return;
  }
  std::string password = core::RandomToken(12);
  if (auto r = accounts.CreateUserNow("admin", password, true, core::PasswordHashCostOf(config));
      !r) {
    RUCHE_LOG_ERROR("could not create the first administrator: {}", r.error().message);
    return;
  }
  std::printf(
      "================================================================\n"
      " First start: created the administrator account\n"
      "   user:     admin   (%s)\n"
      "   password: %s\n"
      " Sign in and change it. This is printed only once.\n"
      "================================================================\n",
      accounts.UserId("admin").c_str(), password.c_str());
  std::fflush(stdout);
}

// The SFU's UDP socket binds to the HTTP listener's address (127.0.0.1 by default); the
// address announced in SDP is `public_ip` when set. A wildcard listen address needs one.
Result<std::unique_ptr<rtc::Sfu>> StartSfu(const core::Config& config, const std::string& host) {
  rtc::SfuOptions options;
  options.listen_ip = host == "localhost" ? "127.0.0.1" : host;
  options.udp_port = static_cast<uint16_t>(config.rtc_udp_port);
  options.announced_ip = config.public_ip;
  options.workers = static_cast<int>(config.rtc_workers);
  options.test_loss_percent = config.rtc_test_loss_percent;
  options.max_incoming_bitrate = static_cast<uint64_t>(config.rtc_max_incoming_bitrate);
  options.gso = config.rtc_gso;
  options.tcp = config.rtc_tcp;
  options.test_subscriber_bitrate = static_cast<uint64_t>(config.rtc_test_subscriber_kbps) * 1000;
  if (options.test_subscriber_bitrate > 0) {
    RUCHE_LOG_WARN(
        "media: policing each subscriber to {} kbit/s on purpose "
        "(rtc_test_subscriber_kbps)",
        config.rtc_test_subscriber_kbps);
  }
  if (options.test_loss_percent < 0 || options.test_loss_percent > 50) {
    return Error::BadRequest("rtc_test_loss_percent must be between 0 and 50");
  }
  if (options.test_loss_percent > 0) {
    RUCHE_LOG_WARN("media: dropping {}% of packets on purpose (rtc_test_loss_percent)",
                   options.test_loss_percent);
  }
  if (options.announced_ip.empty() && (host == "0.0.0.0" || host == "::")) {
    return Error::BadRequest(
        "listening on all addresses: set public_ip (--public-ip) to the address browsers reach "
        "for media");
  }
  return rtc::Sfu::Start(options);
}

void AddSfuMetrics(net::Metrics& metrics, const rtc::Sfu& sfu) {
  struct Figure {
    const char* name;
    const char* help;
    uint64_t rtc::SfuCounters::*field;
  };
  static constexpr Figure kFigures[] = {
      {"ruche_rtc_rooms", "Meetings with media on this server now.", &rtc::SfuCounters::rooms},
      {"ruche_rtc_peers", "Participants connected to the SFU now.", &rtc::SfuCounters::peers},
      {"ruche_rtc_datagrams_in_total", "UDP datagrams received on the media port.",
       &rtc::SfuCounters::datagrams_in},
      {"ruche_rtc_datagrams_out_total", "UDP datagrams sent from the media port.",
       &rtc::SfuCounters::datagrams_out},
      {"ruche_rtc_rtp_forwarded_total", "RTP packets forwarded to subscribers.",
       &rtc::SfuCounters::rtp_forwarded},
      {"ruche_rtc_nacks_received_total", "NACKs received from subscribers.",
       &rtc::SfuCounters::nacks_received},
      {"ruche_rtc_retransmissions_total", "Packets resent from the retransmission buffer.",
       &rtc::SfuCounters::retransmissions_sent},
      {"ruche_rtc_rtx_received_total", "Retransmissions (RTX) received from publishers.",
       &rtc::SfuCounters::rtx_received},
      {"ruche_rtc_transport_cc_feedback_total",
       "Transport-wide congestion control feedback packets sent to publishers.",
       &rtc::SfuCounters::transport_cc_feedback_sent},
      {"ruche_rtc_layer_downgrades_total",
       "Simulcast layers stepped down because a subscriber reported congestion.",
       &rtc::SfuCounters::layer_downgrades},
      {"ruche_rtc_layer_probes_total",
       "Simulcast layers stepped back up to probe a subscriber's path.",
       &rtc::SfuCounters::layer_probes},
      {"ruche_rtc_nacks_sent_total", "NACKs sent to publishers for gaps seen by the SFU.",
       &rtc::SfuCounters::nacks_sent},
      {"ruche_rtc_keyframe_requests_total", "PLIs sent to publishers (after throttling).",
       &rtc::SfuCounters::keyframe_requests_sent},
      {"ruche_rtc_dropped_unauthenticated_total",
       "Datagrams from addresses or ufrags no STUN check vouched for.",
       &rtc::SfuCounters::dropped_unauthenticated},
      {"ruche_rtc_dropped_undecryptable_total", "SRTP packets failing authentication or replay.",
       &rtc::SfuCounters::dropped_undecryptable},
      {"ruche_rtc_dropped_malformed_total", "Malformed datagrams on the media port.",
       &rtc::SfuCounters::dropped_malformed},
      {"ruche_rtc_dropped_rate_limited_total",
       "Datagrams from not-yet-checked sources over their per-IP budget.",
       &rtc::SfuCounters::dropped_rate_limited},
      {"ruche_rtc_dropped_tcp_congested_total",
       "ICE-TCP packets dropped because the connection's send backlog was full.",
       &rtc::SfuCounters::dropped_tcp_congested},
      {"ruche_rtc_dropped_over_bitrate_total",
       "Media packets over their track's budget (twice the stated bitrate), not forwarded.",
       &rtc::SfuCounters::dropped_over_bitrate},
      {"ruche_rtc_dropped_test_loss_total", "Packets dropped on purpose (rtc_test_loss_percent).",
       &rtc::SfuCounters::dropped_test_loss},
  };
  for (const Figure& f : kFigures) {
    metrics.AddGauge(f.name, f.help, [&sfu, field = f.field] {
      return static_cast<double>(sfu.Counters().*field);
    });
  }
}

}  // namespace

int Serve(const core::Config& config) {
  if (!core::InitCrypto()) {
    RUCHE_LOG_ERROR("libsodium failed to initialise");
    return 1;
  }
  const int threads = IoThreads(config);
  std::error_code ec;
  fs::create_directories(config.data_dir, ec);
  auto lock = LockDataFolder(config.data_dir);
  if (!lock) {
    RUCHE_LOG_ERROR("{}", lock.error().message);
    return 1;
  }
  auto store = OpenStore(config, config.store.read_connections > 0
                                     ? static_cast<int>(config.store.read_connections)
                                     : threads + 1);
  if (!store) {
    RUCHE_LOG_ERROR("cannot open the store: {}", store.error().message);
    return 1;
  }
  auth::Accounts accounts(**store, config.server_name);
  if (config.bootstrap_admin) {
    BootstrapAdmin(accounts, config);
  }
  auto blobs = files::BlobStore::Open((fs::path(config.data_dir) / "media").string());
  if (!blobs) {
    RUCHE_LOG_ERROR("{}", blobs.error().message);
    return 1;
  }
  if (auto swept = matrix::SweepUnreferencedMedia(**store, **blobs); !swept) {
    RUCHE_LOG_ERROR("media: the sweep of unreferenced blobs failed: {}", swept.error().message);
  } else if (swept->blobs > 0) {
    RUCHE_LOG_INFO("media: removed {} unreferenced blobs ({} bytes) left by an interrupted upload",
                   swept->blobs, swept->bytes);
  }
  if (auto vips = files::InitImageLibrary(); !vips) {
    RUCHE_LOG_ERROR("{}", vips.error().message);
    return 1;
  }

  net::IoPool io_pool(threads);
  asio::thread_pool blocking(2);
  net::Metrics metrics;
  net::Router router;

  router.Add("GET", "/healthz",
             [](Request&) -> asio::awaitable<Response> { co_return Response::Text(200, "ok\n"); });
  router.Add("GET", "/metrics", [&metrics](Request&) -> asio::awaitable<Response> {
    co_return Response::Text(200, metrics.Render(), "text/plain; version=0.0.4; charset=utf-8");
  });
  store::Store* store_ptr = store->get();
  metrics.AddGauge(
      "ruche_store_write_queue_depth", "Writes waiting for the store's writer.",
      [store_ptr] { return static_cast<double>(store_ptr->Stats().write_queue_depth); });
  metrics.AddGauge("ruche_store_commits_total", "Transactions committed by the store's writer.",
                   [store_ptr] { return static_cast<double>(store_ptr->Stats().commits); });
  metrics.AddGauge("ruche_store_batched_writes_total", "Writes committed (in group commits).",
                   [store_ptr] { return static_cast<double>(store_ptr->Stats().writes); });

  // Occurrences of calendar events, shared by CalDAV, booking pages and presence (busy in an
  // event): created before the Matrix API, which asks it through `calendar_busy`.
  cal::InstanceCache calendar_instances;
  auto matrix_api = matrix::MountClientApi(
      router, matrix::MatrixDeps{config, **store, accounts, blocking, **blobs,
                                 cal::CalendarBusyProbe(**store, calendar_instances)});
  if (!matrix_api) {
    RUCHE_LOG_ERROR("{}", matrix_api.error().message);
    return 1;
  }

  auto listen = net::ParseListenAddress(config.listen);
  if (!listen) {
    RUCHE_LOG_ERROR("{}", listen.error().message);
    return 1;
  }
  auto sfu = StartSfu(config, listen->first);
  if (!sfu) {
    RUCHE_LOG_ERROR("{}", sfu.error().message);
    return 1;
  }
  matrix::ClientApi* client_api = matrix_api->get();  // outlives meet_api
  metrics.AddGauge("ruche_sync_shared_window_hits_total",
                   "Windows of new events a /sync found already read by another member's.",
                   [client_api] { return double(client_api->SharedWindowStats().hits); });
  metrics.AddGauge("ruche_sync_shared_window_misses_total",
                   "Windows of new events a /sync read itself (then shared).",
                   [client_api] { return double(client_api->SharedWindowStats().misses); });
  metrics.AddGauge("ruche_sync_quiet_total",
                   "Incremental /syncs put together from shared bytes (only room events and "
                   "typing had changed).",
                   [client_api] { return double(client_api->SharedWindowStats().quiet); });
  auto meet_api = meet::MountMeetApi(
      router, meet::MeetDeps{config, **store, accounts, **sfu,
                             [client_api](std::string user_id, bool joined) {
                               return client_api->InMeeting(std::move(user_id), joined);
                             }});
  auto cal_api = cal::MountCalApi(
      router, cal::CalDeps{config, **store, accounts, blocking, calendar_instances});
  mail::MailQueue mail_queue(config, **store);
  cal::BookingDeps booking_deps{config, **store, accounts, mail_queue, calendar_instances};
  auto booking_api = cal::MountBookingApi(router, booking_deps);
  auto event_api = cal::MountEventApi(router, booking_deps);

  AddSfuMetrics(metrics, **sfu);

  std::string web_root = FindWebRoot(config);
  std::unique_ptr<net::StaticSite> site;
  if (!web_root.empty()) {
    auto loaded = net::StaticSite::Load(web_root);
    if (loaded) {
      site = std::move(*loaded);
      RUCHE_LOG_INFO("serving the web client from {} ({} files)", web_root, site->file_count());
    } else {
      RUCHE_LOG_WARN("web client not served: {}", loaded.error().message);
    }
  } else {
    RUCHE_LOG_WARN("web client not found (run `make build`, or set web_root)");
  }
  if (site) {
    router.SetFallback(
        [&site](Request& req) -> asio::awaitable<Response> { co_return site->Serve(req); });
  }

  net::HttpServer server(io_pool, net::ServerOptions{config.http}, router, metrics);
  auto port = server.Listen(listen->first, listen->second);
  if (!port) {
    RUCHE_LOG_ERROR("{}", port.error().message);
    return 1;
  }
  server.Start();
  mail_queue.Start(io_pool.main().get_executor());

  std::string host =
      listen->first.find(':') != std::string::npos ? "[" + listen->first + "]" : listen->first;
  std::printf("ruche: listening on http://%s:%u\n", host.c_str(), static_cast<unsigned>(*port));
  std::fflush(stdout);
  RUCHE_LOG_INFO("ruche {} ready: server name {}, {} I/O threads, data in {}, registration {}",
                 RUCHE_VERSION, config.server_name, threads, config.data_dir,
                 core::RegistrationModeName(config.registration));
  RUCHE_LOG_INFO("media: UDP port {} ({} SFU workers)", (*sfu)->udp_port(), (*sfu)->workers());

  std::atomic<bool> stopping{false};
  asio::signal_set signals(io_pool.main(), SIGINT, SIGTERM);
  signals.async_wait([&](boost::system::error_code ec, int sig) {
    if (ec) {
      return;
    }
    RUCHE_LOG_INFO("signal {}: draining connections", sig);
    stopping = true;
    (*matrix_api)->BeginShutdown();
    mail_queue.Stop();
    server.Shutdown([&io_pool] { io_pool.Stop(); });
  });
  // Booking pages' busy times built in the background, not on their first visitor's request
  // (posted here, after the last early return: it uses calendar_instances until joined below).
  asio::post(blocking, [&store, &calendar_instances, &stopping] {
    cal::WarmBookingOwners(**store, calendar_instances, stopping);
  });
  io_pool.Run();
  blocking.join();
  meet_api.reset();
  sfu->reset();
  // Redacted words still in the search index's segments leave the file before it closes.
  if (auto purged = matrix::PurgeRedactedSearchText(**store); !purged) {
    RUCHE_LOG_WARN("search index purge failed: {}", purged.error().message);
  }
  files::ShutdownImageLibrary();
  (*store)->Close();
  ::close(*lock);
  RUCHE_LOG_INFO("stopped");
  return 0;
}

Result<void> AdminCreateUser(const core::Config& config, const std::string& name,
                             const std::string& password, bool is_admin) {
  if (!core::InitCrypto()) {
    return Error::Internal("libsodium failed to initialise");
  }
  auto store = OpenStore(config, 1);
  if (!store) {
    return store.error();
  }
  auth::Accounts accounts(**store, config.server_name);
  auto r = accounts.CreateUserNow(name, password, is_admin, core::PasswordHashCostOf(config));
  (*store)->Close();
  return r;
}

Result<void> AdminResetPassword(const core::Config& config, const std::string& name,
                                const std::string& password) {
  if (!core::InitCrypto()) {
    return Error::Internal("libsodium failed to initialise");
  }
  if (auto v = auth::Accounts::ValidatePassword(password); !v) {
    return v;
  }
  auto store = OpenStore(config, 1);
  if (!store) {
    return store.error();
  }
  auth::Accounts accounts(**store, config.server_name);
  auto hash = core::HashPassword(password, core::PasswordHashCostOf(config));
  if (!hash) {
    return hash.error();
  }
  auto r = (*store)->WriteSync(accounts.SetPasswordHash(name, *hash));
  if (r) {
    // Sign out everywhere: the devices go, with their E2EE keys and to-device queues (as a
    // logout/all would), and the change is recorded for other users' next sync.
    matrix::Notifier unused_notifier(0);
    matrix::DeviceKeys keys(**store, unused_notifier,
                            std::make_shared<matrix::RoomEvents>(config.server_name));
    auto localpart = accounts.LocalpartFrom(name);
    if (!localpart) {
      r = localpart.error();
    } else {
      std::string user_id = "@" + *localpart + ":" + config.server_name;
      r = (*store)->WriteSync(keys.DeleteDevices(accounts, *localpart, user_id, std::nullopt,
                                                 std::make_shared<int64_t>(0)));
    }
  }
  (*store)->Close();
  return r;
}

Result<std::string> AdminCreateRegistrationToken(const core::Config& config, std::string token,
                                                 std::optional<int64_t> uses) {
  if (!core::InitCrypto()) {
    return Error::Internal("libsodium failed to initialise");
  }
  if (token.empty()) {
    token = core::RandomToken(12);
  }
  if (token.size() > 64) {
    return Error::BadRequest("a registration token is at most 64 characters");
  }
  for (char c : token) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '~' &&
        c != '-') {
      return Error::BadRequest("a registration token uses only [A-Za-z0-9._~-]");
    }
  }
  auto store = OpenStore(config, 1);
  if (!store) {
    return store.error();
  }
  auth::Accounts accounts(**store, config.server_name);
  auto r = (*store)->WriteSync(accounts.CreateRegistrationToken(token, uses, std::nullopt));
  (*store)->Close();
  if (!r) {
    return r.error();
  }
  return token;
}

}  // namespace ruche::app
