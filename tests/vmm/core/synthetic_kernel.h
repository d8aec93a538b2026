// A bzImage whose 64-bit entry (payload offset 0x200) is a few hand-assembled
// instructions: enough for whole-machine runs on the host's /dev/kvm.
#pragma once

#include <asm/bootparam.h>

#include <cstdint>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

namespace runvm::vmm::test {

inline void write_synthetic_bzimage(const std::string& path, const std::vector<uint8_t>& code) {
  std::vector<uint8_t> img(5 * 512 + 0x1000, 0xf4);
  setup_header h{};
  h.setup_sects = 4;
  h.boot_flag = 0xaa55;
  h.header = 0x53726448;
  h.version = 0x020f;
  h.loadflags = 0x01;
  h.xloadflags = 0x01;
  h.syssize = 0x1000 / 16;
  h.cmdline_size = 2047;
  h.initrd_addr_max = 0x7fffffff;
  h.pref_address = 0x100000;
  h.init_size = 0x100000;
  std::memcpy(img.data() + 0x1f1, &h, sizeof h);
  std::memcpy(img.data() + 5 * 512 + 0x200, code.data(), code.size());
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<char*>(img.data()), static_cast<std::streamsize>(img.size()));
}

}  // namespace runvm::vmm::test
