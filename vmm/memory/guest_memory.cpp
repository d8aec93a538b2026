#include "vmm/memory/guest_memory.h"

#include <sys/mman.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace runvm::vmm {

std::optional<GuestMemory> GuestMemory::create(uint64_t size, std::string* error,
                                               uint64_t hole_start) {
  return map_file(size, -1, error, hole_start);
}

std::optional<GuestMemory> GuestMemory::map_file(uint64_t size, int fd, std::string* error,
                                                 uint64_t hole_start) {
  GuestMemory mem;
  mem.owned_ = true;
  uint64_t file_off = 0;
  auto map = [&](uint64_t gpa, uint64_t len) -> bool {
    const int flags = MAP_PRIVATE | MAP_NORESERVE | (fd < 0 ? MAP_ANONYMOUS : 0);
    void* p = mmap(nullptr, len, PROT_READ | PROT_WRITE, flags, fd,
                   fd < 0 ? 0 : static_cast<off_t>(file_off));
    file_off += len;
    if (p == MAP_FAILED) {
      if (error)
        *error =
            "mmap guest memory (" + std::to_string(len >> 20) + " MiB): " + std::strerror(errno);
      return false;
    }
    // Guest RAM is a good candidate for THP and must not end up in core dumps.
    madvise(p, len, MADV_DONTDUMP);
    mem.regions_.push_back({gpa, len, static_cast<uint8_t*>(p)});
    return true;
  };
  if (size == 0) {
    if (error) *error = "guest memory size must be non-zero";
    return std::nullopt;
  }
  if (size <= hole_start) {
    if (!map(0, size)) return std::nullopt;
  } else {
    if (!map(0, hole_start) || !map(k4GiB, size - hole_start)) return std::nullopt;
  }
  return mem;
}

GuestMemory GuestMemory::from_regions(std::vector<MemoryRegion> regions) {
  GuestMemory mem;
  mem.regions_ = std::move(regions);
  mem.owned_ = false;
  return mem;
}

GuestMemory::GuestMemory(GuestMemory&& o) noexcept
    : regions_(std::move(o.regions_)), owned_(std::exchange(o.owned_, false)) {
  o.regions_.clear();
}

GuestMemory& GuestMemory::operator=(GuestMemory&& o) noexcept {
  if (this != &o) {
    this->~GuestMemory();
    regions_ = std::move(o.regions_);
    owned_ = std::exchange(o.owned_, false);
    o.regions_.clear();
  }
  return *this;
}

GuestMemory::~GuestMemory() {
  if (owned_) {
    for (auto& r : regions_) munmap(r.host, r.size);
  }
  regions_.clear();
  owned_ = false;
}

uint64_t GuestMemory::total_size() const {
  uint64_t t = 0;
  for (auto& r : regions_) t += r.size;
  return t;
}

uint8_t* GuestMemory::translate(uint64_t gpa, uint64_t len) const {
  for (const auto& r : regions_) {
    if (gpa < r.guest_addr) continue;
    uint64_t off = gpa - r.guest_addr;
    if (off >= r.size) continue;
    // Written so that no addition can overflow.
    if (len > r.size - off) return nullptr;
    return r.host + off;
  }
  return nullptr;
}

bool GuestMemory::read(uint64_t gpa, void* dst, size_t len) const {
  uint8_t* p = translate(gpa, len);
  if (!p) return false;
  if (len) std::memcpy(dst, p, len);
  return true;
}

bool GuestMemory::write(uint64_t gpa, const void* src, size_t len) const {
  uint8_t* p = translate(gpa, len);
  if (!p) return false;
  if (len) std::memcpy(p, src, len);
  return true;
}

}  // namespace runvm::vmm
