#include "net/metrics.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>

namespace ruche::net {
namespace {

const double kStartTime =
    std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();

std::string Label(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') {
      out.push_back('\\');
    }
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out.push_back(c);
  }
  return out;
}

}  // namespace

void RouteMetrics::Record(int status, double seconds) {
  size_t i = 0;
  while (i < kStatuses.size() && kStatuses[i] != status) {
    ++i;
  }
  by_status_[i].fetch_add(1, std::memory_order_relaxed);
  size_t b = 0;
  while (b < kBuckets.size() && seconds > kBuckets[b]) {
    ++b;
  }
  buckets_[b].fetch_add(1, std::memory_order_relaxed);
  sum_micros_.fetch_add(static_cast<uint64_t>(seconds * 1e6), std::memory_order_relaxed);
}

void RouteMetrics::Render(std::string& out) const {
  for (size_t i = 0; i < by_status_.size(); ++i) {
    uint64_t n = by_status_[i].load(std::memory_order_relaxed);
    if (n == 0) {
      continue;
    }
    std::string status = i < kStatuses.size() ? std::to_string(kStatuses[i]) : "other";
    out += fmt::format("ruche_http_requests_total{{route=\"{}\",method=\"{}\",status=\"{}\"}} {}\n",
                       Label(route_), method_, status, n);
  }
}

void RouteMetrics::RenderHistogram(std::string& out) const {
  uint64_t cumulative = 0;
  for (size_t b = 0; b < buckets_.size(); ++b) {
    cumulative += buckets_[b].load();
  }
  if (cumulative == 0) {
    return;
  }
  uint64_t running = 0;
  std::string labels = fmt::format("route=\"{}\",method=\"{}\"", Label(route_), method_);
  for (size_t b = 0; b < buckets_.size(); ++b) {
    running += buckets_[b].load(std::memory_order_relaxed);
    std::string le = b < kBuckets.size() ? fmt::format("{}", kBuckets[b]) : "+Inf";
    out += fmt::format("ruche_http_request_duration_seconds_bucket{{{},le=\"{}\"}} {}\n", labels,
                       le, running);
  }
  out += fmt::format("ruche_http_request_duration_seconds_sum{{{}}} {:.6f}\n", labels,
                     sum_micros_.load() / 1e6);
  out += fmt::format("ruche_http_request_duration_seconds_count{{{}}} {}\n", labels, running);
}

RouteMetrics* Metrics::ForRoute(const std::string& route, const std::string& method) {
  std::lock_guard lock(mu_);
  return &routes_.emplace_back(route, method);
}

void Metrics::AddGauge(std::string name, std::string help, std::function<double()> read) {
  std::lock_guard lock(mu_);
  gauges_.push_back({std::move(name), std::move(help), std::move(read)});
}

std::string Metrics::Render() const {
  std::string out;
  out.reserve(8192);
  std::lock_guard lock(mu_);
  out += "# HELP ruche_http_requests_total HTTP requests answered, by route, method and status.\n";
  out += "# TYPE ruche_http_requests_total counter\n";
  for (const auto& r : routes_) {
    r.Render(out);
  }
  out += "# HELP ruche_http_request_duration_seconds Time from request read to response written.\n";
  out += "# TYPE ruche_http_request_duration_seconds histogram\n";
  for (const auto& r : routes_) {
    r.RenderHistogram(out);
  }
  out += "# HELP ruche_http_open_connections Open HTTP connections (WebSockets included).\n";
  out += "# TYPE ruche_http_open_connections gauge\n";
  out += fmt::format("ruche_http_open_connections {}\n", open_connections.load());
  out += "# HELP ruche_http_rejected_connections_total Connections refused over the limit.\n";
  out += "# TYPE ruche_http_rejected_connections_total counter\n";
  out += fmt::format("ruche_http_rejected_connections_total {}\n", rejected_connections.load());
  for (const auto& g : gauges_) {
    out += fmt::format("# HELP {} {}\n# TYPE {} gauge\n{} {}\n", g.name, g.help, g.name, g.name,
                       g.read());
  }
  out += "# HELP process_resident_memory_bytes Resident memory size in bytes.\n";
  out += "# TYPE process_resident_memory_bytes gauge\n";
  out += fmt::format("process_resident_memory_bytes {}\n", ProcessRssBytes());
  out += "# HELP process_cpu_seconds_total User and system CPU time spent, in seconds.\n";
  out += "# TYPE process_cpu_seconds_total counter\n";
  out += fmt::format("process_cpu_seconds_total {:.3f}\n", ProcessCpuSeconds());
  out += "# HELP process_start_time_seconds Start time of the process since the Unix epoch.\n";
  out += "# TYPE process_start_time_seconds gauge\n";
  out += fmt::format("process_start_time_seconds {:.3f}\n", kStartTime);
  return out;
}

int64_t ProcessRssBytes() {
  std::ifstream statm("/proc/self/statm");
  int64_t size = 0, resident = 0;
  statm >> size >> resident;
  return resident * sysconf(_SC_PAGESIZE);
}

double ProcessCpuSeconds() {
  std::ifstream stat("/proc/self/stat");
  std::string content((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  // Fields after the command name (which may contain spaces) start after the last ')'.
  size_t close = content.rfind(')');
  if (close == std::string::npos) {
    return 0;
  }
  std::istringstream rest(content.substr(close + 2));
  std::string field;
  uint64_t utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) {
      utime = std::stoull(field);
    }
    if (i == 15) {
      stime = std::stoull(field);
    }
  }
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

}  // namespace ruche::net
