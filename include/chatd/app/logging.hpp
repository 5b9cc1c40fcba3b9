#pragma once

#include <string>

namespace chatd::app {

// Logs go to stdout: text lines, or one JSON object per line for collectors.
void setup_logging(const std::string& level, const std::string& format);

}  // namespace chatd::app
