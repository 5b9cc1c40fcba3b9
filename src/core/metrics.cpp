#include "chatd/core/metrics.hpp"

#include <sstream>

#include <spdlog/fmt/fmt.h>

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
  auto r = requests_.find(RequestView(route, method, status));
  if (r == requests_.end()) {
    r = requests_.emplace(RequestKey(route, method, status), 0).first;
  }
  ++r->second;
  auto l = latency_.find(route);
  if (l == latency_.end()) l = latency_.emplace(std::string(route), Histogram{}).first;
  auto& h = l->second;
  for (std::size_t i = 0; i < kLatencyBuckets.size(); ++i) {
    if (seconds <= kLatencyBuckets[i]) ++h.buckets[i];
  }
  ++h.count;
  h.sum += seconds;
}

std::atomic<std::uint64_t>& Metrics::counter(const std::string& name, const std::string& help,
                                             const std::string& labels) {
  std::lock_guard lock(mu_);
  auto& c = counters_[{name, labels}];
  c.help = help;
  return c.value;
}

void Metrics::counter_fn(const std::string& name, const std::string& help,
                         std::function<double()> read) {
  std::lock_guard lock(mu_);
  gauges_[name] = Gauge{help, std::move(read), true};
}

void Metrics::info(const std::string& name, const std::string& help, const std::string& labels) {
  std::lock_guard lock(mu_);
  infos_[name] = {help, labels};
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

// Shortest text that reads back as the same double ("0.1", "1234.5678"):
// sums keep full precision, where the stream's default 6 digits did not.
std::string num(double v) { return fmt::format("{}", v); }
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
          << "\",le=\"" << num(kLatencyBuckets[i]) << "\"} " << h.buckets[i] << '\n';
    }
    out << "chatd_http_request_duration_seconds_bucket{route=\"" << label(route)
        << "\",le=\"+Inf\"} " << h.count << '\n';
    out << "chatd_http_request_duration_seconds_sum{route=\"" << label(route) << "\"} "
        << num(h.sum) << '\n';
    out << "chatd_http_request_duration_seconds_count{route=\"" << label(route) << "\"} "
        << h.count << '\n';
  }
  std::string last;
  for (const auto& [key, c] : counters_) {
    const auto& [name, labels] = key;
    if (name != last) out << "# HELP " << name << ' ' << c.help << "\n# TYPE " << name << " counter\n";
    last = name;
    out << name;
    if (!labels.empty()) out << '{' << labels << '}';
    out << ' ' << c.value.load(std::memory_order_relaxed) << '\n';
  }
  for (const auto& [name, h] : histograms_) {
    out << "# HELP " << name << ' ' << h.help << "\n# TYPE " << name << " histogram\n";
    for (std::size_t i = 0; i < h.bounds.size(); ++i) {
      out << name << "_bucket{le=\"" << num(h.bounds[i]) << "\"} " << h.buckets[i] << '\n';
    }
    out << name << "_bucket{le=\"+Inf\"} " << h.count << '\n'
        << name << "_sum " << num(h.sum) << '\n' << name << "_count " << h.count << '\n';
  }
  for (const auto& [name, g] : gauges_) {
    out << "# HELP " << name << ' ' << g.help << "\n# TYPE " << name
        << (g.counter ? " counter\n" : " gauge\n") << name << ' ' << num(g.read()) << '\n';
  }
  for (const auto& [name, info] : infos_) {
    out << "# HELP " << name << ' ' << info.first << "\n# TYPE " << name << " gauge\n"
        << name << '{' << info.second << "} 1\n";
  }
  return out.str();
}

}  // namespace chatd
