// What every fuzz target here shares: the input as a little-endian byte
// stream (reads past the end give zeros, so any input decodes), an invariant
// check that names itself before aborting, and the process's open-fd count
// (a device must leave none behind).
#pragma once

#include <dirent.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

namespace runvm::fuzz {

class FuzzInput {
 public:
  FuzzInput(const uint8_t* d, size_t n) : d_(d), n_(n) {}
  bool empty() const { return n_ == 0; }
  uint8_t u8() { return n_ ? (--n_, *d_++) : 0; }
  uint16_t u16() { return static_cast<uint16_t>(u8() | (uint16_t{u8()} << 8)); }
  uint32_t u32() { return u16() | (uint32_t{u16()} << 16); }
  uint64_t u64() { return u32() | (uint64_t{u32()} << 32); }

 private:
  const uint8_t* d_;
  size_t n_;
};

// Entries in /proc/self/fd (with ".", ".." and the directory's own fd: compare
// counts, not values).
inline size_t open_fd_count() {
  size_t n = 0;
  if (DIR* d = opendir("/proc/self/fd")) {
    while (readdir(d)) ++n;
    closedir(d);
  }
  return n;
}

}  // namespace runvm::fuzz

// A failed invariant names the target, the line and the condition, so a crash
// report says what broke. FUZZ_TARGET is the target's name, defined before this
// header is included.
#define FUZZ_CHECK(cond)                                                                       \
  do {                                                                                         \
    if (!(cond)) {                                                                             \
      std::fprintf(stderr, "%s: check failed at line %d: %s\n", FUZZ_TARGET, __LINE__, #cond); \
      std::abort();                                                                            \
    }                                                                                          \
  } while (0)
