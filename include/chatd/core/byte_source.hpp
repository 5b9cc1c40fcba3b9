// A request body that arrives while it is handled (uploads), instead of being
// read whole before the handler runs. The network layer implements it over
// the connection; the domain reads it in chunks of its choosing. Names
// nothing of Beast.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>

#include "chatd/core/async.hpp"

namespace chatd {

// The client went away, sent a malformed body, or was too slow: the upload
// is abandoned and nobody is left to answer.
struct BodyAborted : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Reads up to `size` bytes into `data`, waiting for at least one; 0 at the
  // end of the body. Throws BodyAborted.
  virtual Task<std::size_t> read(char* data, std::size_t size) = 0;
  // The Content-Length the client declared; none for a chunked body.
  virtual std::optional<std::uint64_t> declared_length() const = 0;
};

}  // namespace chatd
