// An exclusive advisory lock on a file (flock), released when the object dies.
// Locks held by one process are released by the kernel when it exits, so a
// crashed runvm never leaves a container locked.
#pragma once

#include <string>

#include "base/result.h"

namespace runvm::runtime {

class FileLock {
 public:
  FileLock() = default;
  FileLock(FileLock&& other) noexcept;
  FileLock& operator=(FileLock&& other) noexcept;
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  ~FileLock();

  // Opens (creating, mode 0600) `path` and blocks until the exclusive lock is held.
  [[nodiscard]] static Result<FileLock> acquire(const std::string& path);
  // Like acquire(), but fails with err = EWOULDBLOCK at once when another holder exists.
  [[nodiscard]] static Result<FileLock> try_acquire(const std::string& path);

  bool held() const { return fd_ >= 0; }
  // True when path() still names the locked file. A lock taken on a file that
  // was since unlinked (or replaced) protects nothing.
  [[nodiscard]] bool still_linked() const;
  const std::string& path() const { return path_; }
  void release();

 private:
  FileLock(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  [[nodiscard]] static Result<FileLock> lock(const std::string& path, bool wait);

  int fd_ = -1;
  std::string path_;
};

}  // namespace runvm::runtime
