#include "chatd/domain/attachment_service.hpp"

#include <pthread.h>

#include <algorithm>
#include <mutex>
#include <vector>

#include <spdlog/spdlog.h>

#include "chatd/core/sha256.hpp"
#include "chatd/domain/media_types.hpp"
#include "chatd/store/attachment_store.hpp"
#include "chatd/store/blob_store.hpp"
#include "chatd/store/db_pool.hpp"
#include "chatd/store/transaction.hpp"

// Jobs handed to pools are named locals: see run_on in core/async.hpp.

namespace chatd::domain {

namespace {
// Per read from the client and per write to disk: what an upload holds in
// memory. While the disk pool writes it, the kernel keeps receiving.
constexpr std::size_t kChunk = 512 * 1024;

Error too_large(std::uint64_t limit) {
  return {ErrorKind::payload_too_large, "payload_too_large",
          "an attachment may have at most " + std::to_string(limit) + " bytes"};
}
Error unsupported(const std::string& why) {
  return {ErrorKind::unsupported_media_type, "unsupported_media_type", why};
}

// What the disk pool does with each chunk: hash it, write it. The chunks
// live here, not in the coroutine, so a job still running when the upload
// is refused never reads freed memory; `mu` keeps a write and the removal
// of the file apart. Hash jobs run one at a time, in order (each is awaited
// before the next starts).
struct Sink {
  std::mutex mu;
  Sha256 hash;
  std::unique_ptr<store::BlobStore::Upload> file;
  std::vector<char> chunks[2] = {std::vector<char>(kChunk), std::vector<char>(kChunk)};
};

// Removes an unfinished upload's temporary file on the disk pool, whatever
// way the upload ends (refused, client gone, placed).
struct DropOnExit {
  WorkerPool& disk;
  std::shared_ptr<Sink> sink;
  ~DropOnExit() {
    auto s = sink;
    auto drop = [s](std::size_t) {
      std::lock_guard lock(s->mu);
      s->file.reset();
    };
    if (!disk.try_post(drop)) drop(0);
  }
};
}  // namespace

Task<Expected<model::Attachment>> AttachmentService::upload(model::UserId me,
                                                            std::string content_type,
                                                            ByteSource& body) {
  auto mime = accepted_media_type(content_type);
  if (!mime) {
    co_return unsupported(content_type.empty()
                              ? "Content-Type is missing; accepted: " + accepted_media_types()
                              : "Content-Type " + content_type +
                                    " is not accepted; accepted: " + accepted_media_types());
  }
  auto declared = body.declared_length();
  if (declared && *declared > limit_) co_return too_large(limit_);
  if (declared && *declared == 0) co_return Error::invalid("the upload is empty");

  auto sink = std::make_shared<Sink>();
  store::BlobStore* blobs = &blobs_;
  auto open_job = [sink, blobs](std::size_t) {
    sink->file = blobs->begin();
    return true;
  };
  co_await run_on<bool>(disk_, open_job);
  DropOnExit drop{disk_, sink};

  std::string head;  // the first kSniffBytes, until they are checked
  bool checked = false;
  std::uint64_t total = 0;
  // While the next chunk is read from the client, the disk pool hashes the
  // last one on one worker and writes it on another (each about as costly).
  std::shared_ptr<Started<bool>> hashing, writing;
  for (int turn = 0;; turn ^= 1) {
    char* data = sink->chunks[turn].data();
    std::size_t n = co_await body.read(data, kChunk);
    total += n;
    if (total > limit_) co_return too_large(limit_);
    if (!checked && n > 0) {
      head.append(data, std::min(n, kSniffBytes - head.size()));
      if (head.size() == kSniffBytes) {
        if (!bytes_match(*mime, head)) co_return unsupported("the bytes are not " + *mime);
        checked = true;
      }
    }
    if (hashing) co_await finish(hashing);
    if (writing) co_await finish(writing);
    if (n == 0) break;
    auto hash_job = [sink, data, n](std::size_t) {
      sink->hash.update(data, n);
      return true;
    };
    auto write_job = [sink, data, n](std::size_t) {
      std::lock_guard lock(sink->mu);
      sink->file->write(data, n);
      return true;
    };
    hashing = co_await start_on<bool>(disk_, hash_job);
    writing = co_await start_on<bool>(disk_, write_job);
  }
  if (total == 0) co_return Error::invalid("the upload is empty");
  if (!checked && !bytes_match(*mime, head)) co_return unsupported("the bytes are not " + *mime);

  auto sync_job = [sink](std::size_t) {
    sink->file->sync();
    return sink->hash.hex();
  };
  std::string sha = co_await run_on<std::string>(disk_, sync_job);

  // Name the content and record it, under the content's lock.
  std::int64_t size = static_cast<std::int64_t>(total);
  std::string type = *mime;
  auto record_job = [sink, blobs, me, type, size, sha](store::Connection& c) {
    return store::transact(c, [&](store::Transaction& tx) {
      store::AttachmentStore records(tx);
      records.lock_content(sha);
      blobs->place(*sink->file, sha);
      return records.insert(me, type, size, sha);
    });
  };
  co_return co_await db_.run<model::Attachment>(record_job);
}

Task<Expected<Download>> AttachmentService::open(model::UserId me, model::AttachmentId id) {
  auto find_job = [me, id](store::Connection& c) {
    return store::transact(
        c,
        [&](store::Transaction& tx) {
          return store::AttachmentStore(tx).readable(id, me);
        },
        store::TxMode::one_statement);
  };
  auto record = co_await db_.run<std::optional<model::Attachment>>(find_job);
  if (!record) co_return Error::not_found("no attachment " + std::to_string(id));
  store::BlobStore* blobs = &blobs_;
  std::string sha = record->sha256;
  auto open_job = [blobs, sha](std::size_t) { return blobs->open(sha); };
  auto file = co_await run_on<std::shared_ptr<FileHandle>>(disk_, open_job);
  if (!file) {
    spdlog::error("attachment {}: its file {} is missing", id, sha);
    co_return Error::not_found("no attachment " + std::to_string(id));
  }
  co_return Download{std::move(*record), std::move(file)};
}

// --- the sweeper -----------------------------------------------------------

class SweeperConnection {
 public:
  explicit SweeperConnection(const std::string& url) : conn(url) {}
  store::Connection conn;
};

AttachmentSweeper::AttachmentSweeper(std::string database_url, store::BlobStore& blobs,
                                     Metrics& metrics, Options options)
    : url_(std::move(database_url)), blobs_(blobs), opt_(options),
      removed_records_(metrics.counter("chatd_attachments_expired_total",
                                       "Uploads removed because no message carried them.")),
      removed_files_(metrics.counter("chatd_attachment_files_removed_total",
                                     "Attachment files removed from --data-dir.")),
      conn_(std::make_unique<SweeperConnection>(url_)) {}

AttachmentSweeper::~AttachmentSweeper() { stop(); }

void AttachmentSweeper::start() {
  thread_ = std::thread([this] { run(); });
  pthread_setname_np(thread_.native_handle(), "sweeper");
}

void AttachmentSweeper::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void AttachmentSweeper::run() {
  for (;;) {
    try {
      auto r = sweep_once();
      if (r.records + r.files + r.partial > 0) {
        spdlog::info("sweeper: removed {} expired upload(s), {} file(s), {} partial upload(s)",
                     r.records, r.files, r.partial);
      }
    } catch (const std::exception& e) {
      spdlog::warn("sweeper: {}", e.what());
    }
    std::unique_lock lock(mu_);
    if (cv_.wait_for(lock, opt_.interval, [this] { return stopping_; })) return;
  }
}

AttachmentSweeper::Report AttachmentSweeper::sweep_once() {
  Report report;
  auto& conn = conn_->conn;
  // Records first: each removal commits before its file is looked at.
  std::vector<std::string> contents;
  for (;;) {
    auto batch = store::transact(conn, [&](store::Transaction& tx) {
      return store::AttachmentStore(tx).remove_expired(opt_.ttl, 100);
    });
    for (const auto& e : batch) contents.push_back(e.sha256);
    report.records += batch.size();
    if (batch.size() < 100) break;
  }
  std::sort(contents.begin(), contents.end());
  contents.erase(std::unique(contents.begin(), contents.end()), contents.end());
  // Files no record names: the expired ones' contents (at once), and any
  // old enough that no upload can be placing it (a crash's leftovers).
  auto old = blobs_.blobs_older_than(opt_.grace);
  std::vector<std::string> candidates = contents;
  candidates.insert(candidates.end(), old.begin(), old.end());
  std::sort(candidates.begin(), candidates.end());
  candidates.erase(std::unique(candidates.begin(), candidates.end()), candidates.end());
  for (const auto& sha : candidates) {
    bool removed = store::transact(conn, [&](store::Transaction& tx) {
      store::AttachmentStore records(tx);
      records.lock_content(sha);
      if (records.content_named(sha)) return false;
      return blobs_.remove(sha);
    });
    if (removed) ++report.files;
  }
  report.partial = blobs_.remove_stale_uploads(opt_.grace);
  removed_records_ += report.records;
  removed_files_ += report.files;
  return report;
}

}  // namespace chatd::domain
