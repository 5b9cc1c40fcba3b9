#include "chatd/core/failures.hpp"

#include <spdlog/spdlog.h>

namespace chatd {

Error error_for_failure(std::exception_ptr failure, const std::string& context) {
  try {
    std::rethrow_exception(failure);
  } catch (const Overloaded& e) {
    spdlog::warn("{}: overloaded: {}", context, e.what());
    return Error::unavailable("server is overloaded, retry shortly");
  } catch (const Unavailable& e) {
    spdlog::warn("{}: {}", context, e.what());
    return Error::unavailable("database unavailable, retry shortly");
  } catch (const std::exception& e) {
    spdlog::error("{}: unhandled error: {}", context, e.what());
  } catch (...) {
    spdlog::error("{}: unhandled error", context);
  }
  return Error{};
}

}  // namespace chatd
