// The guest console written to a file, bounded: when the file reaches
// `max_bytes` it becomes PATH.1 (replacing an older one) and a new PATH starts,
// so a guest printing without end keeps at most 2 x max_bytes on the host.
// Thread-safe: called by the UART under its own lock, from vCPU threads.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "base/result.h"
#include "base/unique_fd.h"

namespace runvm::vmm {

class ConsoleLog {
 public:
  static constexpr uint64_t kDefaultMaxBytes = uint64_t{1} << 20;

  // Opens (appends to) `path`; its current size counts towards the first rotation.
  [[nodiscard]] static Result<std::unique_ptr<ConsoleLog>> open(const std::string& path,
                                                                uint64_t max_bytes);

  // Writes `b`, rotating first when the file is full. A failing write or
  // rotation loses output only.
  void write(uint8_t b);

 private:
  ConsoleLog(std::string path, UniqueFd fd, uint64_t size, uint64_t max_bytes)
      : path_(std::move(path)), fd_(std::move(fd)), size_(size), max_(max_bytes) {}
  void rotate_locked();

  std::mutex mu_;
  const std::string path_;
  UniqueFd fd_;    // GUARDED_BY(mu_)
  uint64_t size_;  // GUARDED_BY(mu_)
  const uint64_t max_;
};

}  // namespace runvm::vmm
