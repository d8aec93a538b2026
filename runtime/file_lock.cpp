#include "runtime/file_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

namespace runvm::runtime {

FileLock::FileLock(FileLock&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), path_(std::move(other.path_)) {}

FileLock& FileLock::operator=(FileLock&& other) noexcept {
  if (this != &other) {
    release();
    fd_ = std::exchange(other.fd_, -1);
    path_ = std::move(other.path_);
  }
  return *this;
}

FileLock::~FileLock() {
  release();
}

void FileLock::release() {
  if (fd_ >= 0) {
    // Closing the only descriptor of the open file description drops the flock.
    ::close(fd_);
    fd_ = -1;
  }
}

bool FileLock::still_linked() const {
  if (fd_ < 0) return false;
  struct stat held {
  }, named{};
  if (::fstat(fd_, &held) != 0 || ::stat(path_.c_str(), &named) != 0) return false;
  return held.st_dev == named.st_dev && held.st_ino == named.st_ino;
}

Result<FileLock> FileLock::acquire(const std::string& path) {
  return lock(path, true);
}

Result<FileLock> FileLock::try_acquire(const std::string& path) {
  return lock(path, false);
}

Result<FileLock> FileLock::lock(const std::string& path, bool wait) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return Error::from_errno("open lock file " + path);
  int op = LOCK_EX | (wait ? 0 : LOCK_NB);
  int rc;
  do {
    rc = ::flock(fd, op);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) {
    int e = errno;
    ::close(fd);
    return Error::from_errno("lock " + path, e);
  }
  return FileLock(fd, path);
}

}  // namespace runvm::runtime
