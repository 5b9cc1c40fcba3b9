#include "chatd/app/logging.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <memory>

#include <spdlog/async.h>
#include <spdlog/formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "chatd/core/log_event.hpp"
#include "chatd/core/time.hpp"

namespace chatd::app {

namespace {

// {"ts":"2026-11-25T10:00:00.123Z","level":"info","thread":123,"msg":"...", fields...}
// A payload from log_event() carries its members pre-rendered; any other
// message becomes "msg", escaped. Every line is valid UTF-8 JSON.
class JsonFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    auto since = msg.time.time_since_epoch();
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(since).count();
    std::string line = "{\"ts\":\"";
    line += format_rfc3339_ms(ms);
    line += "\",\"level\":\"";
    auto level = spdlog::level::to_string_view(msg.level);
    line.append(level.data(), level.size());
    line += "\",\"thread\":";
    line += std::to_string(msg.thread_id);
    line.push_back(',');
    std::string_view payload(msg.payload.data(), msg.payload.size());
    if (!payload.empty() && payload.front() == kJsonPayloadMarker) {
      line.append(payload.substr(1));
    } else {
      line += "\"msg\":\"";
      append_json_escaped(line, payload);
      line.push_back('"');
    }
    line += "}\n";
    dest.append(line.data(), line.data() + line.size());
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonFormatter>();
  }
};

}  // namespace

namespace {
// The logging thread's queue; kept here so that stop_logging() can drain it
// and join the thread before the logger goes (the join orders the thread's
// last writes before the logger's destruction, also for ThreadSanitizer).
std::shared_ptr<spdlog::details::thread_pool> log_pool;
}  // namespace

void setup_logging(const std::string& level, const std::string& format) {
  // Lines are handed to one logging thread through a bounded queue: an IO
  // thread never writes (or flushes) stdout itself, and when the queue is
  // full the oldest waiting lines are dropped rather than blocking serving.
  // stdout is line-buffered, so the logging thread writes each line as it
  // comes and a collector sees it at once.
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  if (!log_pool) log_pool = std::make_shared<spdlog::details::thread_pool>(16384, 1);
  auto sink = std::make_shared<spdlog::sinks::stdout_sink_mt>();
  auto logger = std::make_shared<spdlog::async_logger>(
      "chatd", sink, log_pool, spdlog::async_overflow_policy::overrun_oldest);
  set_structured_json(format == "json");
  if (format == "json") {
    logger->set_formatter(std::make_unique<JsonFormatter>());
  } else {
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ [%t] %v");
  }
  logger->set_level(spdlog::level::from_str(level));
  logger->flush_on(spdlog::level::warn);
  spdlog::set_default_logger(logger);
}

void flush_logs() { spdlog::default_logger_raw()->flush(); }

void stop_logging() {
  // Writes what is queued, joins the logging thread, then drops the logger.
  log_pool.reset();
  spdlog::shutdown();
}

}  // namespace chatd::app
