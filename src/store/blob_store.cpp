#include "chatd/store/blob_store.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <random>
#include <system_error>

namespace chatd::store {

namespace fs = std::filesystem;

namespace {

[[noreturn]] void fail(const std::string& what) {
  throw std::system_error(errno, std::generic_category(), what);
}

void sync_dir(const fs::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) fail("open " + dir.string());
  int rc = ::fsync(fd);
  int saved = errno;
  ::close(fd);
  errno = saved;
  if (rc != 0) fail("fsync " + dir.string());
}

bool is_sha256(const std::string& s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

std::string random_name() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  char buf[40];
  std::snprintf(buf, sizeof buf, "%016llx%016llx", static_cast<unsigned long long>(rng()),
                static_cast<unsigned long long>(rng()));
  return buf;
}

}  // namespace

BlobStore::BlobStore(fs::path root) : root_(std::move(root)) {
  fs::create_directories(root_ / "blobs");
  fs::create_directories(root_ / "tmp");
}

fs::path BlobStore::path_of(const std::string& sha256) const {
  if (!is_sha256(sha256)) throw std::invalid_argument("not a sha256: " + sha256);
  return root_ / "blobs" / sha256.substr(0, 2) / sha256;
}

BlobStore::Upload::~Upload() {
  if (fd_ >= 0) ::close(fd_);
  ::unlink(path_.c_str());
}

void BlobStore::Upload::write(const char* data, std::size_t size) {
  while (size > 0) {
    ssize_t n = ::write(fd_, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail("write " + path_.string());
    data += n;
    size -= static_cast<std::size_t>(n);
    written_ += static_cast<std::uint64_t>(n);
  }
  // Start writing back what is written so far (without waiting), so that the
  // final sync has little left to do.
  constexpr std::uint64_t kFlushStep = 4 << 20;
  if (written_ - flushed_ >= kFlushStep) {
    ::sync_file_range(fd_, static_cast<off_t>(flushed_), static_cast<off_t>(written_ - flushed_),
                      SYNC_FILE_RANGE_WRITE);
    flushed_ = written_;
  }
}

void BlobStore::Upload::sync() {
  if (::fdatasync(fd_) != 0) fail("fdatasync " + path_.string());
}

std::unique_ptr<BlobStore::Upload> BlobStore::begin() {
  auto path = root_ / "tmp" / random_name();
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
  if (fd < 0) fail("create " + path.string());
  return std::unique_ptr<Upload>(new Upload(fd, std::move(path)));
}

void BlobStore::place(Upload& upload, const std::string& sha256) {
  auto target = path_of(sha256);
  auto dir = target.parent_path();
  if (::mkdir(dir.c_str(), 0750) != 0 && errno != EEXIST) fail("mkdir " + dir.string());
  if (::link(upload.path_.c_str(), target.c_str()) == 0) {
    sync_dir(dir);
    return;
  }
  if (errno != EEXIST) fail("link " + target.string());
  // Already stored: the same bytes (same hash). Touch it for the sweeper.
  if (::utimensat(AT_FDCWD, target.c_str(), nullptr, 0) != 0) fail("touch " + target.string());
}

std::shared_ptr<FileHandle> BlobStore::open(const std::string& sha256) const {
  auto path = path_of(sha256);
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return nullptr;
    fail("open " + path.string());
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    int saved = errno;
    ::close(fd);
    errno = saved;
    fail("stat " + path.string());
  }
  return std::make_shared<FileHandle>(fd, static_cast<std::uint64_t>(st.st_size));
}

bool BlobStore::exists(const std::string& sha256) const {
  struct stat st {};
  return ::stat(path_of(sha256).c_str(), &st) == 0;
}

bool BlobStore::remove(const std::string& sha256) {
  auto path = path_of(sha256);
  if (::unlink(path.c_str()) != 0) {
    if (errno == ENOENT) return false;
    fail("unlink " + path.string());
  }
  sync_dir(path.parent_path());
  return true;
}

std::vector<std::string> BlobStore::blobs_older_than(std::chrono::seconds age) const {
  std::vector<std::string> out;
  auto cutoff = fs::file_time_type::clock::now() - age;
  std::error_code ec;
  for (const auto& shard : fs::directory_iterator(root_ / "blobs", ec)) {
    if (!shard.is_directory(ec)) continue;
    for (const auto& entry : fs::directory_iterator(shard.path(), ec)) {
      auto name = entry.path().filename().string();
      if (!is_sha256(name) || name.substr(0, 2) != shard.path().filename().string()) continue;
      auto when = entry.last_write_time(ec);
      if (!ec && when < cutoff) out.push_back(name);
    }
  }
  return out;
}

std::size_t BlobStore::remove_stale_uploads(std::chrono::seconds age) {
  std::size_t removed = 0;
  auto cutoff = fs::file_time_type::clock::now() - age;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(root_ / "tmp", ec)) {
    auto when = entry.last_write_time(ec);
    if (!ec && when < cutoff && fs::remove(entry.path(), ec)) ++removed;
  }
  return removed;
}

}  // namespace chatd::store
