#include "chatd/core/metrics.hpp"

#include <sstream>

namespace chatd {

void Metrics::observe_request(std::string_view route, std::string_view method, int status,
                              double seconds) {
  // Methods come from clients: anything unusual shares one label, so no client
  // can create series without bound (on any path that reports here).
  static constexpr std::string_view kMethods[] = {"GET",    "POST", "PUT",    "PATCH",
                                                  "DELETE", "HEAD", "OPTIONS"};
  std::string_view label = "other";
  for (auto m : kMethods) {
    if (method == m) label = m;
  }
  method = label;
  std::lock_guard lock(mu_);
  ++requests_[{std::string(route), std::string(method), status}];
  auto& h = latency_[std::string(route)];
  for (std::size_t i = 0; i < kLatencyBuckets.size(); ++i) {
    if (seconds <= kLatencyBuckets[i]) ++h.buckets[i];
  }
  ++h.count;
  h.sum += seconds;
}

std::atomic<std::uint64_t>& Metrics::counter(const std::string& name, const std::string& help) {
  std::lock_guard lock(mu_);
  auto& c = counters_[name];
  c.help = help;
  return c.value;
}

void Metrics::gauge(const std::string& name, const std::string& help,
                    std::function<double()> read) {
  std::lock_guard lock(mu_);
  gauges_[name] = Gauge{help, std::move(read)};
}

void Metrics::histogram(const std::string& name, const std::string& help,
                        std::vector<double> buckets) {
  std::lock_guard lock(mu_);
  auto& h = histograms_[name];
  h.help = help;
  h.buckets.assign(buckets.size(), 0);
  h.bounds = std::move(buckets);
}

void Metrics::observe(const std::string& name, double seconds) {
  std::lock_guard lock(mu_);
  auto it = histograms_.find(name);
  if (it == histograms_.end()) return;
  auto& h = it->second;
  for (std::size_t i = 0; i < h.bounds.size(); ++i) {
    if (seconds <= h.bounds[i]) ++h.buckets[i];
  }
  ++h.count;
  h.sum += seconds;
}

namespace {
// Label values here are route patterns and methods we produced ourselves, but
// escape anyway so the exposition stays parseable.
std::string label(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}
}  // namespace

std::string Metrics::render() const {
  std::ostringstream out;
  std::lock_guard lock(mu_);
  out << "# HELP chatd_http_requests_total HTTP requests answered, by route, method and status.\n"
         "# TYPE chatd_http_requests_total counter\n";
  for (const auto& [key, n] : requests_) {
    const auto& [route, method, status] = key;
    out << "chatd_http_requests_total{route=\"" << label(route) << "\",method=\""
        << label(method) << "\",status=\"" << status << "\"} " << n << '\n';
  }
  out << "# HELP chatd_http_request_duration_seconds Time from request read to response "
         "ready, by route.\n"
         "# TYPE chatd_http_request_duration_seconds histogram\n";
  for (const auto& [route, h] : latency_) {
    for (std::size_t i = 0; i < kLatencyBuckets.size(); ++i) {
      out << "chatd_http_request_duration_seconds_bucket{route=\"" << label(route)
          << "\",le=\"" << kLatencyBuckets[i] << "\"} " << h.buckets[i] << '\n';
    }
    out << "chatd_http_request_duration_seconds_bucket{route=\"" << label(route)
        << "\",le=\"+Inf\"} " << h.count << '\n';
    out << "chatd_http_request_duration_seconds_sum{route=\"" << label(route) << "\"} " << h.sum
        << '\n';
    out << "chatd_http_request_duration_seconds_count{route=\"" << label(route) << "\"} "
        << h.count << '\n';
  }
  for (const auto& [name, c] : counters_) {
    out << "# HELP " << name << ' ' << c.help << "\n# TYPE " << name << " counter\n"
        << name << ' ' << c.value.load(std::memory_order_relaxed) << '\n';
  }
  for (const auto& [name, h] : histograms_) {
    out << "# HELP " << name << ' ' << h.help << "\n# TYPE " << name << " histogram\n";
    for (std::size_t i = 0; i < h.bounds.size(); ++i) {
      out << name << "_bucket{le=\"" << h.bounds[i] << "\"} " << h.buckets[i] << '\n';
    }
    out << name << "_bucket{le=\"+Inf\"} " << h.count << '\n'
        << name << "_sum " << h.sum << '\n' << name << "_count " << h.count << '\n';
  }
  for (const auto& [name, g] : gauges_) {
    out << "# HELP " << name << ' ' << g.help << "\n# TYPE " << name << " gauge\n"
        << name << ' ' << g.read() << '\n';
  }
  return out.str();
}

}  // namespace chatd
