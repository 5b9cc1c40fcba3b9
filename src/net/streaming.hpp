// Private to the network layer: request bodies read while they are handled
// (uploads) and response bodies sent from files (downloads), so neither is
// ever held whole in memory.
#pragma once

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/parser.hpp>

#include <chrono>
#include <cstdint>
#include <optional>

#include "chatd/core/byte_source.hpp"
#include "chatd/core/worker_pool.hpp"
#include "chatd/http/message.hpp"
#include "connection.hpp"

namespace chatd::net {

using StreamParser =
    boost::beast::http::request_parser<boost::beast::http::buffer_body>;

// The body of a request to a streaming route, read from the connection as the
// handler asks for it. Answers `Expect: 100-continue` on the first read (a
// handler that refuses the request first never invites the body).
class StreamedBody final : public ByteSource {
 public:
  StreamedBody(Connection& conn, boost::beast::flat_buffer& buffer, StreamParser& parser,
               bool expect_continue, std::chrono::milliseconds read_timeout)
      : conn_(conn), buffer_(buffer), parser_(parser), expect_continue_(expect_continue),
        read_timeout_(read_timeout) {
    if (auto n = parser_.content_length(); n && !parser_.chunked()) remaining_ = *n;
  }

  Task<std::size_t> read(char* data, std::size_t size) override;
  std::optional<std::uint64_t> declared_length() const override;
  // Whether the whole body was read (else the connection cannot be reused).
  bool done() const { return remaining_ ? *remaining_ == 0 : parser_.is_done(); }

 private:
  Connection& conn_;
  boost::beast::flat_buffer& buffer_;
  StreamParser& parser_;
  bool expect_continue_;
  std::chrono::milliseconds read_timeout_;
  // A body of known length is read straight into the caller's buffer, in
  // reads as large as it allows; the parser (a copy, small reads) decodes
  // only chunked bodies.
  std::optional<std::uint64_t> remaining_;

  Task<std::size_t> read_known_length(char* data, std::size_t size);
  Task<std::size_t> read_chunked(char* data, std::size_t size);
};

// Writes `length` bytes of `file` from `offset` to the connection: read on
// `disk` (a worker pool: the IO thread never waits for the disk), written
// from the IO thread. False when the client stopped reading or went away.
Task<bool> send_file(Connection& conn, WorkerPool& disk, std::shared_ptr<FileHandle> file,
                     std::uint64_t offset, std::uint64_t length,
                     std::chrono::milliseconds write_timeout);

}  // namespace chatd::net
