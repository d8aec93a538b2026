// FNV-1a, 64-bit: a cheap hash for telling damaged or different inputs apart
// (a snapshot file's checksum, a template VM's shape). Not for adversarial input.
#pragma once

#include <cstddef>
#include <cstdint>

namespace runvm {

inline uint64_t fnv1a(const void* data, size_t n, uint64_t h = 0xcbf29ce484222325ull) {
  const auto* p = static_cast<const uint8_t*>(data);
  for (size_t i = 0; i < n; ++i) {
    h ^= p[i];
    h *= 0x100000001b3ull;
  }
  return h;
}

}  // namespace runvm
