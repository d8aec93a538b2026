// Fixed guest-physical addresses of the x86-64 boot structures. Everything
// below 1 MiB except [kEbdaStart, 1 MiB) is ordinary RAM in the e820 map; the
// boot structures live in RAM the kernel is told about, which it may reuse
// once it has consumed them (boot_params, page tables, command line are
// copied or replaced early in boot).
#pragma once

#include <cstdint>

namespace runvm::vmm::x86_64 {

inline constexpr uint64_t kGdtAddr = 0x500;
inline constexpr uint64_t kIdtAddr = 0x520;
inline constexpr uint64_t kZeroPageAddr = 0x7000;  // boot_params
inline constexpr uint64_t kBootStackTop = 0x8ff0;
inline constexpr uint64_t kPml4Addr = 0x9000;
inline constexpr uint64_t kPdptAddr = 0xa000;
inline constexpr uint64_t kPdAddr = 0xb000;  // 4 pages: identity map of 4 GiB
inline constexpr uint64_t kCmdlineAddr = 0x20000;
inline constexpr uint64_t kCmdlineMax = 0x10000;   // bytes reserved for the command line
inline constexpr uint64_t kEbdaStart = 0x9fc00;    // reserved from here to 1 MiB
inline constexpr uint64_t kMpTableAddr = 0xf0000;  // MP floating pointer + config table
inline constexpr uint64_t kMpTableMax = 0x10000;
inline constexpr uint64_t kAcpiAddr = 0xe0000;  // RSDP (found by scan too) and tables
inline constexpr uint64_t kAcpiMax = 0x10000;
inline constexpr uint64_t kHighMemStart = 0x100000;  // 1 MiB: protected-mode kernel
inline constexpr uint64_t kLapicAddr = 0xfee0'0000;
inline constexpr uint64_t kIoapicAddr = 0xfec0'0000;

}  // namespace runvm::vmm::x86_64
