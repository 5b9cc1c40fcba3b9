// Attachment bytes on disk, under --data-dir:
//   blobs/<first two hex digits>/<sha256>   one file per distinct content
//   tmp/<random>                            uploads in progress
// No part of a path comes from a client: names are hashes or random. Every
// call blocks on the disk: call it from a worker pool, never an IO thread.
// Who may create or remove a blob is decided with AttachmentStore's content
// lock (see attachment_store.hpp).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "chatd/core/file_handle.hpp"

namespace chatd::store {

class BlobStore {
 public:
  // Creates the directories when missing; throws std::system_error when it cannot.
  explicit BlobStore(std::filesystem::path root);

  // An upload being written. Its temporary file is removed when it is
  // destroyed, whether or not it was placed.
  class Upload {
   public:
    ~Upload();
    Upload(const Upload&) = delete;
    Upload& operator=(const Upload&) = delete;
    // Appends all of it; throws std::system_error (disk full, ...).
    void write(const char* data, std::size_t size);
    // Everything written is on stable storage.
    void sync();

   private:
    friend class BlobStore;
    Upload(int fd, std::filesystem::path path) : fd_(fd), path_(std::move(path)) {}
    int fd_;
    std::filesystem::path path_;
    std::uint64_t written_ = 0;
    std::uint64_t flushed_ = 0;  // started writing back up to here
  };

  std::unique_ptr<Upload> begin();
  // Makes the synced upload's content the blob `sha256`: a new name for its
  // file, or, when the content is already stored, the existing file (its
  // time touched, so the sweeper's grace period starts again). The
  // directory entry is on stable storage when this returns.
  void place(Upload& upload, const std::string& sha256);
  // The blob for reading; nullptr when it is missing.
  std::shared_ptr<FileHandle> open(const std::string& sha256) const;
  bool exists(const std::string& sha256) const;
  // Removes the blob; false when it was not there.
  bool remove(const std::string& sha256);

  // Blobs whose file was last changed more than `age` ago, by name.
  std::vector<std::string> blobs_older_than(std::chrono::seconds age) const;
  // Removes temporary files older than `age` (uploads a crash abandoned);
  // returns how many.
  std::size_t remove_stale_uploads(std::chrono::seconds age);

  const std::filesystem::path& root() const { return root_; }
  std::filesystem::path path_of(const std::string& sha256) const;

 private:
  std::filesystem::path root_;
};

}  // namespace chatd::store
