#include "streaming.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

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
  if (parser_.is_done() || size == 0) co_return 0;
  beast::error_code ec;
  if (expect_continue_) {
    expect_continue_ = false;
    static const char kContinue[] = "HTTP/1.1 100 Continue\r\n\r\n";
    conn_.stream.expires_after(read_timeout_);
    co_await asio::async_write(conn_.stream, asio::buffer(kContinue, sizeof kContinue - 1),
                               asio::redirect_error(asio::use_awaitable, ec));
    if (ec) throw BodyAborted("writing 100 Continue: " + ec.message());
  }
  auto& body = parser_.get().body();
  body.data = data;
  body.size = size;
  body.more = true;
  // Until at least one byte of body (a chunk header alone is progress too,
  // but no data) or the end of the body.
  while (body.size == size && !parser_.is_done()) {
    conn_.stream.expires_after(read_timeout_);
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
struct ReadResult {
  std::size_t bytes = 0;
  int error = 0;
};
}  // namespace

Task<bool> send_file(Connection& conn, WorkerPool& disk, std::shared_ptr<FileHandle> file,
                     std::uint64_t offset, std::uint64_t length,
                     std::chrono::milliseconds write_timeout) {
  // 1 MiB at a time: few trips to the pool, little memory per download.
  constexpr std::size_t kChunk = 1 << 20;
  auto buffer = std::make_shared<std::vector<char>>(std::min<std::uint64_t>(kChunk, length));
  beast::error_code ec;
  while (length > 0) {
    std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(buffer->size(), length));
    auto job = [file, buffer, offset, want](std::size_t) {
      ReadResult r;
      while (r.bytes < want) {
        ssize_t n = ::pread(file->fd(), buffer->data() + r.bytes, want - r.bytes,
                            static_cast<off_t>(offset + r.bytes));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
          r.error = n < 0 ? errno : EIO;  // 0: the file is shorter than its record
          break;
        }
        r.bytes += static_cast<std::size_t>(n);
      }
      return r;
    };
    ReadResult got;
    try {
      got = co_await run_on<ReadResult>(disk, job);
    } catch (const std::exception&) {
      co_return false;  // the pool is full: the response is already under way
    }
    if (got.error) co_return false;
    conn.stream.expires_after(write_timeout);
    co_await asio::async_write(conn.stream, asio::buffer(buffer->data(), got.bytes),
                               asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return false;
    offset += got.bytes;
    length -= got.bytes;
  }
  co_return true;
}

}  // namespace chatd::net
