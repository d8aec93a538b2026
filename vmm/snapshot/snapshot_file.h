// The saved-state file of a VM snapshot (`vm.state`): named sections of bytes
// behind a magic, a format version and a checksum of everything before it.
// Guest memory is a separate file (memory_file.h). A truncated, corrupt or
// foreign file is an Error naming the file and what is wrong with it.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "base/result.h"

namespace runvm::vmm::snapshot {

inline constexpr uint32_t kFormatVersion = 1;
// State files hold registers and device state, never guest memory.
inline constexpr uint64_t kMaxStateFileBytes = 16 << 20;

using Sections = std::map<std::string, std::vector<uint8_t>>;

// Writes the sections to `fd` (from offset 0; the file is truncated first).
[[nodiscard]] Status write_state_file(int fd, const Sections& sections, const std::string& what);
[[nodiscard]] Result<Sections> read_state_file(int fd, const std::string& what);

// Encoding in memory (fuzzed; tests).
std::vector<uint8_t> encode_sections(const Sections& sections);
[[nodiscard]] Result<Sections> decode_sections(const std::vector<uint8_t>& bytes);

}  // namespace runvm::vmm::snapshot
