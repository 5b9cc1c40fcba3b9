// Attachments (API.md, Attachments): uploads streamed to disk, downloads of
// what the caller may read, and the sweeper that removes what nothing uses.
//
// An upload is checked before it is read (declared type, declared length),
// then read in chunks: the leading bytes against the declared type (415 as
// soon as they disagree), the running size against the limit (413 as soon as
// it is passed: the rest is never read), and each chunk hashed and written
// on the disk pool. Only then does the file take its content's name and the
// record commit (see store/attachment_store.hpp for why a crash leaves no
// record without its file). At most two chunks of an upload are in memory.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "chatd/core/async.hpp"
#include "chatd/core/byte_source.hpp"
#include "chatd/core/expected.hpp"
#include "chatd/core/file_handle.hpp"
#include "chatd/core/metrics.hpp"
#include "chatd/model/attachment.hpp"

namespace chatd::store {
class DbPool;
class BlobStore;
}  // namespace chatd::store

namespace chatd::domain {

struct Download {
  model::Attachment attachment;
  std::shared_ptr<FileHandle> file;
};

class AttachmentService {
 public:
  // `disk`: the pool that hashes and writes uploads. `limit`: the largest
  // upload, in bytes (--attachment-limit).
  AttachmentService(store::DbPool& db, WorkerPool& disk, store::BlobStore& blobs,
                    std::uint64_t limit)
      : db_(db), disk_(disk), blobs_(blobs), limit_(limit) {}

  // 201's attachment. invalid (empty), payload_too_large, unsupported_media_type.
  // Throws BodyAborted when the client goes away mid-upload (nothing is kept).
  Task<Expected<model::Attachment>> upload(model::UserId me, std::string content_type,
                                           ByteSource& body);
  // not_found unless `me` may read it (API.md: its uploader, or a current
  // member of a conversation where a message that is not deleted carries it).
  Task<Expected<Download>> open(model::UserId me, model::AttachmentId id);

  std::uint64_t limit() const { return limit_; }

 private:
  store::DbPool& db_;
  WorkerPool& disk_;
  store::BlobStore& blobs_;
  std::uint64_t limit_;
};

// The sweeper: a thread with its own database connection that, every
// `interval`, removes uploads older than `ttl` that no message carries (the
// record first, then the file once no record names its content), files no
// record names that are older than `grace`, and uploads a crash abandoned.
class AttachmentSweeper {
 public:
  struct Options {
    std::chrono::seconds ttl{24 * 3600};
    std::chrono::milliseconds interval{600'000};
    // A file is only removed when it is at least this old: a crashed
    // upload's leftovers, never one an upload is placing right now.
    std::chrono::seconds grace{3600};
  };
  AttachmentSweeper(std::string database_url, store::BlobStore& blobs, Metrics& metrics,
                    Options options);
  ~AttachmentSweeper();
  AttachmentSweeper(const AttachmentSweeper&) = delete;
  AttachmentSweeper& operator=(const AttachmentSweeper&) = delete;

  void start();
  void stop();

  struct Report {
    std::size_t records = 0;  // expired uploads removed
    std::size_t files = 0;    // blob files removed
    std::size_t partial = 0;  // abandoned temporary files removed
  };
  // One pass, on the calling thread.
  Report sweep_once();

 private:
  void run();

  std::string url_;
  store::BlobStore& blobs_;
  Options opt_;
  std::atomic<std::uint64_t>& removed_records_;
  std::atomic<std::uint64_t>& removed_files_;
  std::unique_ptr<class SweeperConnection> conn_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace chatd::domain
