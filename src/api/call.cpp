#include "chatd/api/call.hpp"

#include "chatd/domain/validation.hpp"

namespace chatd::api {

Expected<std::int64_t> Call::id(std::string_view name, std::string_view what) const {
  return domain::parse_id(path[name], what);
}

}  // namespace chatd::api
