// Wiring: builds every layer from the configuration and runs it.
#pragma once

#include "chatd/app/config.hpp"

namespace chatd::app {

// Serves until SIGTERM/SIGINT; returns the process exit code.
int serve(const Config& config);
// Applies pending migrations; returns the process exit code.
int migrate(const Config& config);

}  // namespace chatd::app
