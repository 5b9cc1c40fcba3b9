// The chatd executable: parse settings, then serve or migrate.
#include <unistd.h>

#include <cstdio>
#include <thread>

#include "chatd/app/application.hpp"
#include "chatd/app/config.hpp"
#include "chatd/app/logging.hpp"

#include <spdlog/spdlog.h>

extern char** environ;

int main(int argc, char** argv) {
  using chatd::app::Config;
  std::vector<std::string> args(argv + 1, argv + argc);
  chatd::app::Environment env;
  for (char** e = environ; e && *e; ++e) {
    std::string kv = *e;
    auto eq = kv.find('=');
    if (eq != std::string::npos) env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  unsigned cores = std::thread::hardware_concurrency();
  auto config = chatd::app::parse_config(args, env, cores);
  if (!config) {
    std::fprintf(stderr, "chatd: %s\n", config.error().message.c_str());
    return 2;
  }
  switch (config->command) {
    case Config::Command::help:
      std::fputs(chatd::app::help_text(cores).c_str(), stdout);
      return 0;
    case Config::Command::version:
      std::puts("chatd " CHATD_VERSION);
      return 0;
    case Config::Command::migrate:
    {
      chatd::app::setup_logging(config->log_level, config->log_format);
      int code = chatd::app::migrate(*config);
      chatd::app::stop_logging();
      return code;
    }
    case Config::Command::serve:
    {
      chatd::app::setup_logging(config->log_level, config->log_format);
      int code = 1;
      try {
        code = chatd::app::serve(*config);
      } catch (const std::exception& e) {
        spdlog::critical("chatd: {}", e.what());
      }
      chatd::app::stop_logging();  // writes what is still queued
      return code;
    }
  }
  return 2;
}
