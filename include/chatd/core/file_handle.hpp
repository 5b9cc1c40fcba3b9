// An open, read-only file and its size: what a download streams from. The
// descriptor closes with the last owner.
#pragma once

#include <unistd.h>

#include <cstdint>

namespace chatd {

class FileHandle {
 public:
  FileHandle(int fd, std::uint64_t size) : fd_(fd), size_(size) {}
  ~FileHandle() {
    if (fd_ >= 0) ::close(fd_);
  }
  FileHandle(const FileHandle&) = delete;
  FileHandle& operator=(const FileHandle&) = delete;

  int fd() const { return fd_; }
  std::uint64_t size() const { return size_; }

 private:
  int fd_;
  std::uint64_t size_;
};

}  // namespace chatd
