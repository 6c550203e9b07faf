#pragma once
// Prometheus metrics for the HTTP layer and the process. Counters are atomics owned per route,
// so recording a request takes no lock. Rendering (GET /metrics) walks them.
#include <array>
#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>

namespace ruche::net {

class RouteMetrics {
 public:
  // Upper bounds of the latency histogram buckets, in seconds.
  static constexpr std::array<double, 12> kBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                      0.05,   0.1,   0.25,   0.5,   1.0,  5.0};
  RouteMetrics(std::string route, std::string method)
      : route_(std::move(route)), method_(std::move(method)) {}

  void Record(int status, double seconds);
  void Render(std::string& out) const;
  void RenderHistogram(std::string& out) const;

 private:
  static constexpr std::array<int, 17> kStatuses = {101, 200, 204, 206, 301, 304, 400, 401, 403,
                                                    404, 405, 408, 413, 429, 431, 500, 503};
  std::string route_, method_;
  std::array<std::atomic<uint64_t>, kStatuses.size() + 1> by_status_{};  // last: other
  std::array<std::atomic<uint64_t>, kBuckets.size() + 1> buckets_{};     // last: +Inf
  std::atomic<uint64_t> sum_micros_{0};
};

class Metrics {
 public:
  // A new RouteMetrics for (route, method), with a stable address. Call at set-up time.
  RouteMetrics* ForRoute(const std::string& route, const std::string& method);

  std::atomic<int64_t> open_connections{0};
  std::atomic<uint64_t> rejected_connections{0};

  // Extra gauges from other modules (e.g. the store's queue depth), sampled when rendering.
  void AddGauge(std::string name, std::string help, std::function<double()> read);

  std::string Render() const;

 private:
  mutable std::mutex mu_;
  std::deque<RouteMetrics> routes_;  // GUARDED_BY(mu_) for insertion; deque keeps addresses
  struct Gauge {
    std::string name, help;
    std::function<double()> read;
  };
  std::deque<Gauge> gauges_;  // GUARDED_BY(mu_)
};

// Process figures from /proc: resident memory in bytes and CPU seconds (user + system).
int64_t ProcessRssBytes();
double ProcessCpuSeconds();

}  // namespace ruche::net
