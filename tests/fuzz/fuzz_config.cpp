// The configuration parser: flags and environment. The input is split on
// NUL into arguments; arguments holding '=' before a '|' marker become
// environment variables instead. Any outcome is fine but a crash; a parsed
// configuration must satisfy the documented ranges.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "chatd/app/config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string in(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> args;
  chatd::app::Environment env;
  std::size_t start = 0;
  while (start <= in.size()) {
    auto end = in.find('\0', start);
    if (end == std::string::npos) end = in.size();
    std::string part = in.substr(start, end - start);
    auto eq = part.find('=');
    if (!part.empty() && part[0] == '|' && eq != std::string::npos) {
      env[part.substr(1, eq - 1)] = part.substr(eq + 1);
    } else {
      args.push_back(part);
    }
    start = end + 1;
  }
  auto c = chatd::app::parse_config(args, env, 2);
  if (c.ok()) {
    const auto& v = c.value();
    if (v.threads < 1 || v.db_pool < 1 || v.ws_max_queue < 16 || v.send_batch < 1) std::abort();
  }
  (void)chatd::app::help_text(2);
  return 0;
}
