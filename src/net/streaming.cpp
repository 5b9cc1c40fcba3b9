#include "streaming.hpp"

#include <unistd.h>

#include <cerrno>
#include <array>
#include <cstring>
#include <vector>

#include <boost/asio/buffer.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/read.hpp>

#include "chatd/core/file_handle.hpp"

namespace chatd::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

std::optional<std::uint64_t> StreamedBody::declared_length() const {
  auto n = parser_.content_length();
  if (!n) return std::nullopt;
  return static_cast<std::uint64_t>(*n);
}

Task<std::size_t> StreamedBody::read(char* data, std::size_t size) {
  if (done() || size == 0) co_return 0;
  if (expect_continue_) {
    expect_continue_ = false;
    static const char kContinue[] = "HTTP/1.1 100 Continue\r\n\r\n";
    beast::error_code ec;
    conn_.stream.expires_after(read_timeout_);
    co_await asio::async_write(conn_.stream, asio::buffer(kContinue, sizeof kContinue - 1),
                               asio::redirect_error(asio::use_awaitable, ec));
    if (ec) throw BodyAborted("writing 100 Continue: " + ec.message());
  }
  if (remaining_) co_return co_await read_known_length(data, size);
  co_return co_await read_chunked(data, size);
}

// Fills `data` (up to what is left of the body): first what arrived with
// the header, then from the socket.
Task<std::size_t> StreamedBody::read_known_length(char* data, std::size_t size) {
  std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(size, *remaining_));
  std::size_t got = 0;
  if (buffer_.size() > 0) {
    got = std::min(want, buffer_.size());
    asio::buffer_copy(asio::buffer(data, got), buffer_.data());
    buffer_.consume(got);
  }
  beast::error_code ec;
  while (got < want) {
    conn_.stream.expires_after(read_timeout_);
    std::size_t n = co_await conn_.stream.async_read_some(
        asio::buffer(data + got, want - got), asio::redirect_error(asio::use_awaitable, ec));
    if (ec) throw BodyAborted("reading the body: " + ec.message());
    got += n;
  }
  *remaining_ -= got;
  co_return got;
}

Task<std::size_t> StreamedBody::read_chunked(char* data, std::size_t size) {
  auto& body = parser_.get().body();
  body.data = data;
  body.size = size;
  body.more = true;
  beast::error_code ec;
  // Until the caller's buffer is full, the body ends, or (once there is
  // something) what has arrived is used up: a sender that pauses gets what
  // it sent so far (and an upload over its limit, its answer).
  while (body.size > 0 && !parser_.is_done()) {
    if (body.size < size && buffer_.size() == 0) break;
    conn_.stream.expires_after(read_timeout_);
    if (buffer_.capacity() - buffer_.size() < 16 * 1024) buffer_.reserve(buffer_.size() + 64 * 1024);
    co_await bhttp::async_read_some(conn_.stream, buffer_, parser_,
                                    asio::redirect_error(asio::use_awaitable, ec));
    if (ec == bhttp::error::need_buffer) ec = {};  // our chunk is full
    if (ec) throw BodyAborted("reading the body: " + ec.message());
  }
  std::size_t got = size - body.size;
  body.data = nullptr;
  body.size = 0;
  co_return got;
}

namespace {
// One read from the file on a worker: into `into`, at most its size.
struct DiskRead {
  std::size_t bytes = 0;
  int error = 0;
};
}  // namespace

Task<bool> send_file(Connection& conn, WorkerPool& disk, std::shared_ptr<FileHandle> file,
                     std::uint64_t offset, std::uint64_t length,
                     std::chrono::milliseconds write_timeout) {
  // 1 MiB at a time, two buffers: the disk pool reads the next while the
  // last goes to the client.
  constexpr std::size_t kChunk = 1 << 20;
  std::size_t size = static_cast<std::size_t>(std::min<std::uint64_t>(kChunk, length));
  auto buffers = std::make_shared<std::array<std::vector<char>, 2>>();
  (*buffers)[0].resize(size);
  if (length > size) (*buffers)[1].resize(size);
  auto read_into = [&](int turn, std::uint64_t at, std::size_t want) {
    return [file, buffers, turn, at, want](std::size_t) {
      DiskRead r;
      char* into = (*buffers)[turn].data();
      while (r.bytes < want) {
        ssize_t n = ::pread(file->fd(), into + r.bytes, want - r.bytes,
                            static_cast<off_t>(at + r.bytes));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
          r.error = n < 0 ? errno : EIO;  // 0: the file is shorter than its record
          break;
        }
        r.bytes += static_cast<std::size_t>(n);
      }
      return r;
    };
  };
  beast::error_code ec;
  std::shared_ptr<Started<DiskRead>> next;
  try {
    auto first = read_into(0, offset, static_cast<std::size_t>(std::min<std::uint64_t>(size, length)));
    next = co_await start_on<DiskRead>(disk, first);
    for (int turn = 0; length > 0; turn ^= 1) {
      DiskRead got = co_await finish(next);
      if (got.error) co_return false;
      offset += got.bytes;
      length -= got.bytes;
      if (length > 0) {
        auto ahead = read_into(turn ^ 1, offset, static_cast<std::size_t>(std::min<std::uint64_t>(size, length)));
        next = co_await start_on<DiskRead>(disk, ahead);
      }
      conn.stream.expires_after(write_timeout);
      co_await asio::async_write(conn.stream, asio::buffer((*buffers)[turn].data(), got.bytes),
                                 asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return false;
    }
  } catch (const std::exception&) {
    co_return false;  // the pool is full: the response is already under way
  }
  co_return true;
}

}  // namespace chatd::net
