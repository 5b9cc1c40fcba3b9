#include "chatd/core/process_metrics.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace chatd {

namespace {

double cpu_seconds() {
  rusage ru{};
  if (getrusage(RUSAGE_SELF, &ru) != 0) return 0;
  auto secs = [](const timeval& tv) { return static_cast<double>(tv.tv_sec) + tv.tv_usec / 1e6; };
  return secs(ru.ru_utime) + secs(ru.ru_stime);
}

double resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  unsigned long long size = 0, resident = 0;
  if (!(statm >> size >> resident)) return 0;
  return static_cast<double>(resident) * static_cast<double>(sysconf(_SC_PAGESIZE));
}

double virtual_bytes() {
  std::ifstream statm("/proc/self/statm");
  unsigned long long size = 0;
  if (!(statm >> size)) return 0;
  return static_cast<double>(size) * static_cast<double>(sysconf(_SC_PAGESIZE));
}

double open_fds() {
  std::error_code ec;
  double n = 0;
  for (std::filesystem::directory_iterator it("/proc/self/fd", ec), end; !ec && it != end;
       it.increment(ec)) {
    ++n;
  }
  return n > 0 ? n - 1 : 0;  // the iterator's own descriptor
}

double max_fds() {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) != 0) return 0;
  return static_cast<double>(lim.rlim_cur);
}

}  // namespace

void register_process_metrics(Metrics& metrics, const std::string& version) {
  double started = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  metrics.counter_fn("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.",
                     cpu_seconds);
  metrics.gauge("process_resident_memory_bytes", "Resident memory size in bytes.", resident_bytes);
  metrics.gauge("process_virtual_memory_bytes", "Virtual memory size in bytes.", virtual_bytes);
  metrics.gauge("process_open_fds", "Number of open file descriptors.", open_fds);
  metrics.gauge("process_max_fds", "Maximum number of open file descriptors.", max_fds);
  metrics.gauge("process_start_time_seconds", "Start time of the process since unix epoch in seconds.",
                [started] { return started; });
  metrics.info("chatd_build_info", "The running chatd's version (always 1).",
               "version=\"" + version + "\"");
}

}  // namespace chatd
