#include "vmm/snapshot/memory_file.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace runvm::vmm::snapshot {

namespace {
constexpr uint64_t kChunk = 64 << 10;

bool all_zero(const uint8_t* p, size_t n) {
  const auto* w = reinterpret_cast<const uint64_t*>(p);
  for (size_t i = 0; i < n / 8; ++i)
    if (w[i] != 0) return false;
  return true;
}
}  // namespace

Status save_memory(const GuestMemory& mem, int fd, const std::string& what) {
  if (::ftruncate(fd, 0) != 0 || ::ftruncate(fd, static_cast<off_t>(mem.total_size())) != 0)
    return Error::from_errno("truncate " + what);
  uint64_t file_off = 0;
  for (const auto& r : mem.regions()) {
    for (uint64_t at = 0; at < r.size; at += kChunk) {
      const size_t n = static_cast<size_t>(std::min(kChunk, r.size - at));
      const uint8_t* p = r.host + at;
      if (all_zero(p, n)) continue;  // a hole reads back as zeros
      size_t done = 0;
      while (done < n) {
        ssize_t w = ::pwrite(fd, p + done, n - done, static_cast<off_t>(file_off + at + done));
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return Error::from_errno("write " + what);
        done += static_cast<size_t>(w);
      }
    }
    file_off += r.size;
  }
  if (::fsync(fd) != 0) return Error::from_errno("fsync " + what);
  return {};
}

Result<GuestMemory> map_memory(int fd, uint64_t size_bytes, const std::string& what) {
  struct stat st;
  if (::fstat(fd, &st) != 0) return Error::from_errno("stat " + what);
  if (!S_ISREG(st.st_mode) || static_cast<uint64_t>(st.st_size) != size_bytes)
    return Error(what + ": " + std::to_string(st.st_size) + " bytes, the snapshot's guest has " +
                     std::to_string(size_bytes) + " (truncated or from another snapshot)",
                 EINVAL);
  std::string err;
  auto mem = GuestMemory::map_file(size_bytes, fd, &err);
  if (!mem) return Error(what + ": " + err);
  return std::move(*mem);
}

}  // namespace runvm::vmm::snapshot
