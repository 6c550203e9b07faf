#pragma once
// Per-step counters and the server's CPU/RSS read from /proc, printed as one line per step.
#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace ruche::bench {

struct ProcSample {
  double cpu_s = 0;  // utime + stime of every thread of the process
  int64_t rss_kib = 0;
};
ProcSample SampleProc(pid_t pid);  // zeros when pid <= 0 or the process is gone
double SelfCpuSeconds();           // this generator's own CPU, to show it is not the bottleneck

struct Step {
  double rate = 0;        // messages/s offered
  int64_t sent = 0;       // messages written to the server
  int64_t acked = 0;      // sends answered 200 (Matrix)
  int64_t expected = 0;   // deliveries due: sum over messages of the connected members
  int64_t delivered = 0;  // deliveries seen by receivers
  int64_t limited = 0;    // sync responses whose timeline was cut (events lost to the limit)
  int64_t responses = 0;  // sync responses read by receivers (Matrix): deliveries per response
  int64_t start_us = 0, send_end_us = 0, end_us = 0, last_delivery_us = 0;
  std::vector<uint32_t> latency_us;  // send → receive, one per delivery
  ProcSample before, after;
  double gen_cpu_s = 0;
};

// Latency quantile in ms (q in [0,1]); sorts the vector.
double QuantileMs(std::vector<uint32_t>& v, double q);

// One "STEP key=value ..." line on stdout for bench/fanout.sh to tabulate.
void PrintStep(const std::string& mode, const Step& s);

}  // namespace ruche::bench
