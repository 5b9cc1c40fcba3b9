// The cross-instance notice decoder: any payload another instance (or
// anything else on the channel) might send. A notice that decodes must
// encode back to something that decodes to the same notice.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "chatd/realtime/notice.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto n = chatd::realtime::decode(text);
  if (n) {
    auto again = chatd::realtime::decode(chatd::realtime::encode(*n));
    if (!again || !(*again == *n)) std::abort();
  }
  return 0;
}
