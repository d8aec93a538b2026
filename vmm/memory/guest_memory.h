// Guest physical memory: anonymous host mappings, one per region (RAM is split
// around the 32-bit PCI hole). Every guest-supplied address goes through
// translate()/read()/write(), which refuse any range that is not entirely inside
// one region; callers never do pointer arithmetic on guest addresses themselves.
// Thread-safety: the region table is fixed after construction; concurrent
// accesses to guest bytes are the guest's business (virtio uses fences).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

namespace runvm::vmm {

struct MemoryRegion {
  uint64_t guest_addr;
  uint64_t size;
  uint8_t* host;  // start of the host mapping for this region
};

class GuestMemory {
 public:
  // Maps `size` bytes of guest RAM starting at guest physical 0, leaving the
  // hole [hole_start, 4 GiB) unmapped when size exceeds hole_start.
  // Pages are not touched (MAP_NORESERVE): the VMM's RSS grows only as the guest uses RAM.
  static std::optional<GuestMemory> create(uint64_t size, std::string* error,
                                           uint64_t hole_start = kDefaultHoleStart);
  // The same layout mapped copy-on-write (MAP_PRIVATE) from a snapshot's memory file
  // (vmm/snapshot/memory_file.h): RAM below the hole from offset 0, the rest after it.
  // Pages the guest never writes stay shared with every VM restored from the file.
  static std::optional<GuestMemory> map_file(uint64_t size, int fd, std::string* error,
                                             uint64_t hole_start = kDefaultHoleStart);
  // Wraps caller-owned buffers (tests, fuzzers). The caller keeps them alive.
  static GuestMemory from_regions(std::vector<MemoryRegion> regions);

  GuestMemory(GuestMemory&&) noexcept;
  GuestMemory& operator=(GuestMemory&&) noexcept;
  GuestMemory(const GuestMemory&) = delete;
  GuestMemory& operator=(const GuestMemory&) = delete;
  ~GuestMemory();

  static constexpr uint64_t kDefaultHoleStart = 0xC000'0000;  // 3 GiB
  static constexpr uint64_t k4GiB = 0x1'0000'0000;

  const std::vector<MemoryRegion>& regions() const { return regions_; }
  uint64_t total_size() const;

  // Host pointer for [gpa, gpa+len) when the whole range (len may be 0) lies in
  // one region and does not overflow; nullptr otherwise.
  uint8_t* translate(uint64_t gpa, uint64_t len) const;
  bool contains(uint64_t gpa, uint64_t len) const { return translate(gpa, len) != nullptr; }

  // Copy helpers; return false (copying nothing) when the range is invalid.
  [[nodiscard]] bool read(uint64_t gpa, void* dst, size_t len) const;
  [[nodiscard]] bool write(uint64_t gpa, const void* src, size_t len) const;

  template <typename T>
  std::optional<T> read_obj(uint64_t gpa) const {
    static_assert(std::is_trivially_copyable_v<T>);
    T v;
    if (!read(gpa, &v, sizeof(T))) return std::nullopt;
    return v;
  }
  template <typename T>
  [[nodiscard]] bool write_obj(uint64_t gpa, const T& v) const {
    static_assert(std::is_trivially_copyable_v<T>);
    return write(gpa, &v, sizeof(T));
  }

 private:
  GuestMemory() = default;
  std::vector<MemoryRegion> regions_;
  bool owned_ = false;
};

}  // namespace runvm::vmm
