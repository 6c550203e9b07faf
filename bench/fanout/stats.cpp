#include "stats.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>

namespace ruche::bench {

ProcSample SampleProc(pid_t pid) {
  ProcSample s;
  if (pid <= 0) {
    return s;
  }
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (std::getline(stat, line)) {
    // proc(5): fields after the parenthesised command; utime and stime are fields 14 and 15.
    size_t close = line.rfind(')');
    std::istringstream rest(line.substr(close + 2));
    std::string field;
    double ticks = 0;
    for (int i = 3; i <= 15 && rest >> field; ++i) {
      if (i == 14 || i == 15) {
        ticks += std::stod(field);
      }
    }
    s.cpu_s = ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
  }
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) {
      s.rss_kib = std::stoll(line.substr(6));
    }
  }
  return s;
}

double SelfCpuSeconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

double QuantileMs(std::vector<uint32_t>& v, double q) {
  if (v.empty()) {
    return 0;
  }
  size_t k = std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size())));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k] / 1000.0;
}

void PrintStep(const std::string& mode, const Step& s) {
  Step copy = s;
  double send_s = (s.send_end_us - s.start_us) / 1e6;
  double span_s = std::max(send_s, (s.last_delivery_us - s.start_us) / 1e6);
  double cpu = s.after.cpu_s - s.before.cpu_s;
  std::printf(
      "STEP mode=%s rate=%.0f sent=%lld acked=%lld expected=%lld delivered=%lld limited=%lld "
      "responses=%lld "
      "send_s=%.2f deliveries_per_s=%.0f p50_ms=%.2f p99_ms=%.2f max_ms=%.2f server_cpu_s=%.2f "
      "server_cpu_pct=%.0f rss_mib=%.1f deliveries_per_cpu_s=%.0f gen_cpu_s=%.2f\n",
      mode.c_str(), s.rate, static_cast<long long>(s.sent), static_cast<long long>(s.acked),
      static_cast<long long>(s.expected), static_cast<long long>(s.delivered),
      static_cast<long long>(s.limited), static_cast<long long>(s.responses), send_s,
      span_s > 0 ? s.delivered / span_s : 0, QuantileMs(copy.latency_us, 0.50),
      QuantileMs(copy.latency_us, 0.99), QuantileMs(copy.latency_us, 1.0), cpu,
      (s.end_us > s.start_us) ? 100.0 * cpu / ((s.end_us - s.start_us) / 1e6) : 0,
      s.after.rss_kib / 1024.0, cpu > 0 ? s.delivered / cpu : 0, s.gen_cpu_s);
  std::fflush(stdout);
}

}  // namespace ruche::bench
