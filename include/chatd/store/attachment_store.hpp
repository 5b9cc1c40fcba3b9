// Attachment records (migrations/0009_attachments.sql). The bytes are in the
// BlobStore; a record names its content by SHA-256. Record and file change
// under the content's lock (lock_content), so an upload placing a file and
// the sweeper removing one never interleave:
//   upload:  lock, place the file (fsync), insert the record, commit;
//   sweeper: delete expired records, commit; then lock, and remove the file
//            only when no record names it.
// A crash can leave a file without a record (removed later), never a record
// without its file.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "chatd/model/attachment.hpp"

namespace chatd::store {

class Transaction;

class AttachmentStore {
 public:
  explicit AttachmentStore(Transaction& tx) : tx_(tx) {}

  // Holds the content's lock until the transaction ends.
  void lock_content(const std::string& sha256);
  model::Attachment insert(model::UserId uploader, const std::string& mime, std::int64_t size,
                           const std::string& sha256);
  // The record, when `reader` may read it: its uploader, or a current member
  // of a conversation where a message that is not deleted carries it.
  std::optional<model::Attachment> readable(model::AttachmentId id, model::UserId reader);

  struct Expired {
    model::AttachmentId id = 0;
    std::string sha256;
  };
  // Removes up to `limit` uploads older than `age` that no message carries;
  // returns what it removed. Rows another sweeper holds are skipped.
  std::vector<Expired> remove_expired(std::chrono::seconds age, int limit);
  // Whether any record names this content.
  bool content_named(const std::string& sha256);

 private:
  Transaction& tx_;
};

}  // namespace chatd::store
