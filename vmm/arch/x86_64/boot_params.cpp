#include "vmm/arch/x86_64/boot_params.h"

#include <cstring>

namespace runvm::vmm::x86_64 {

namespace {
constexpr uint32_t kHdrMagic = 0x53726448;  // "HdrS"
constexpr uint16_t kBootFlag = 0xaa55;
constexpr uint8_t kLoaderUndefined = 0xff;
constexpr uint8_t kCanUseHeap = 0x80;
}  // namespace

Result<boot_params> build_boot_params(const BootParamsInput& in) {
  boot_params bp;
  std::memset(&bp, 0, sizeof bp);
  if (in.hdr) {
    bp.hdr = *in.hdr;
  } else {
    bp.hdr.boot_flag = kBootFlag;
    bp.hdr.header = kHdrMagic;
    bp.hdr.version = 0x020f;
    bp.hdr.kernel_alignment = 0x0100'0000;
  }
  bp.hdr.type_of_loader = kLoaderUndefined;
  bp.hdr.loadflags |= kCanUseHeap;
  bp.hdr.heap_end_ptr = 0xfe00;
  bp.hdr.vid_mode = 0xffff;  // "normal"
  if (in.cmdline_addr > 0xffffffff) return Error("command line above 4 GiB");
  bp.hdr.cmd_line_ptr = static_cast<uint32_t>(in.cmdline_addr);
  bp.ext_cmd_line_ptr = 0;
  bp.hdr.cmdline_size = in.cmdline_size;
  if (in.initrd_size) {
    if (in.initrd_addr > 0xffffffff || in.initrd_size > 0xffffffff)
      return Error("initrd placed above 4 GiB");
    bp.hdr.ramdisk_image = static_cast<uint32_t>(in.initrd_addr);
    bp.hdr.ramdisk_size = static_cast<uint32_t>(in.initrd_size);
  }
  if (in.e820.size() > E820_MAX_ENTRIES_ZEROPAGE)
    return Error("too many e820 entries: " + std::to_string(in.e820.size()));
  for (size_t i = 0; i < in.e820.size(); ++i) {
    bp.e820_table[i].addr = in.e820[i].addr;
    bp.e820_table[i].size = in.e820[i].size;
    bp.e820_table[i].type = in.e820[i].type;
  }
  bp.e820_entries = static_cast<uint8_t>(in.e820.size());
  bp.acpi_rsdp_addr = in.acpi_rsdp;
  return bp;
}

}  // namespace runvm::vmm::x86_64
