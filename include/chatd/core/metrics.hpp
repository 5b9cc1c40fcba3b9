// Process metrics in Prometheus text exposition format: HTTP requests by route,
// method and status, a latency histogram per route, and gauges read on scrape
// (database pool use, open connections). Thread-safe.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

namespace chatd {

class Metrics {
 public:
  static constexpr std::array<double, 14> kLatencyBuckets = {
      0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
      0.025,  0.05,    0.1,    0.25,  0.5,    1.0,   2.5};

  void observe_request(std::string_view route, std::string_view method, int status,
                       double seconds);

  // A monotonically increasing counter that callers bump directly. `labels`
  // (pre-rendered, e.g. `code="1000"`) makes it one series of a family; the
  // name must end in _total.
  std::atomic<std::uint64_t>& counter(const std::string& name, const std::string& help,
                                      const std::string& labels = "");
  // A counter whose value is read at scrape time (it must never go down).
  void counter_fn(const std::string& name, const std::string& help, std::function<double()> read);
  // A value computed at scrape time.
  void gauge(const std::string& name, const std::string& help, std::function<double()> read);
  // A constant 1 with labels: `name{labels} 1` (build_info).
  void info(const std::string& name, const std::string& help, const std::string& labels);
  // A histogram of seconds over `buckets` (ascending upper bounds), declared
  // once; observe() adds to it by name.
  void histogram(const std::string& name, const std::string& help, std::vector<double> buckets);
  void observe(const std::string& name, double seconds);

  std::string render() const;

 private:
  struct Histogram {
    std::array<std::uint64_t, kLatencyBuckets.size()> buckets{};
    std::uint64_t count = 0;
    double sum = 0;
  };
  struct Counter {
    std::string help;
    std::atomic<std::uint64_t> value{0};
  };
  struct Gauge {
    std::string help;
    std::function<double()> read;
    bool counter = false;
  };
  struct NamedHistogram {
    std::string help;
    std::vector<double> bounds;
    std::vector<std::uint64_t> buckets;
    std::uint64_t count = 0;
    double sum = 0;
  };

  mutable std::mutex mu_;
  // Transparent comparators: a request's series is found by string_view,
  // with no allocation (the strings are made once, for a new series).
  using RequestKey = std::tuple<std::string, std::string, int>;
  using RequestView = std::tuple<std::string_view, std::string_view, int>;
  // Compares keys and views as views (a tuple of strings against a tuple of
  // views does not compile with clang's std::less<>).
  struct RequestLess {
    using is_transparent = void;
    static RequestView view(const RequestKey& k) {
      return {std::get<0>(k), std::get<1>(k), std::get<2>(k)};
    }
    static RequestView view(const RequestView& v) { return v; }
    template <class A, class B>
    bool operator()(const A& a, const B& b) const {
      return view(a) < view(b);
    }
  };
  std::map<RequestKey, std::uint64_t, RequestLess> requests_;
  std::map<std::string, Histogram, std::less<>> latency_;
  std::map<std::pair<std::string, std::string>, Counter> counters_;  // (name, labels)
  std::map<std::string, std::pair<std::string, std::string>> infos_;  // name -> (help, labels)
  std::map<std::string, Gauge> gauges_;
  std::map<std::string, NamedHistogram> histograms_;
};

}  // namespace chatd
