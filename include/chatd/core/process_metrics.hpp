// The standard process_* series (CPU seconds, resident memory, open and
// maximum descriptors, start time) read from /proc at scrape time, and
// chatd_build_info.
#pragma once

#include <string>

#include "chatd/core/metrics.hpp"

namespace chatd {

void register_process_metrics(Metrics& metrics, const std::string& version);

}  // namespace chatd
