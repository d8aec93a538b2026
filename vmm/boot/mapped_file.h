// A kernel or initrd file mapped read-only (MAP_PRIVATE): loading copies it once, from the
// page cache into guest memory, with no buffer of the VMM's own in between (a 50 MB ELF
// vmlinux took ~0.35 s more to load through a buffer in the nested test host). The
// mapping is dropped once the images are in guest memory. The files are root's (the guest
// image directory, /boot); one truncated while mapped would make the VMM fail its start
// with SIGBUS, before the guest runs.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "base/result.h"

namespace runvm::vmm::boot {

class MappedFile {
 public:
  MappedFile() = default;
  MappedFile(MappedFile&& o) noexcept;
  MappedFile& operator=(MappedFile&& o) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile() { reset(); }

  // Maps the whole regular file at `path` (an empty file gives empty bytes()).
  [[nodiscard]] static Result<MappedFile> open(const std::string& path);

  std::span<const uint8_t> bytes() const { return {data_, size_}; }
  void reset();

 private:
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace runvm::vmm::boot
