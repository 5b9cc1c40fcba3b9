#pragma once

#include <string>

namespace chatd::app {

// Logs go to stdout: text lines, or one JSON object per line for collectors,
// written by a logging thread (see logging.cpp).
void setup_logging(const std::string& level, const std::string& format);
// Asks the logging thread to write what it holds now (the start-up lines).
void flush_logs();
// Writes what is queued and stops the logging thread (at exit).
void stop_logging();

}  // namespace chatd::app
