#include "vmm/boot/kernel_image.h"

#include <elf.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "base/unique_fd.h"
#include "vmm/arch/x86_64/layout.h"

namespace runvm::vmm::boot {

namespace {
constexpr uint64_t kSetupHeaderOffset = 0x1f1;
constexpr uint32_t kHdrMagic = 0x53726448;  // "HdrS"
constexpr uint16_t kMinVersion = 0x0206;
constexpr uint8_t kLoadedHigh = 0x01;
constexpr uint16_t kXlfKernel64 = 0x01;

std::string hex(uint64_t v) {
  char b[24];
  std::snprintf(b, sizeof b, "0x%llx", static_cast<unsigned long long>(v));
  return b;
}
}  // namespace

Result<BzImageInfo> parse_bzimage(std::span<const uint8_t> image) {
  if (image.size() < kSetupHeaderOffset + sizeof(setup_header))
    return Error("bzImage: file too small for a setup header (" + std::to_string(image.size()) +
                 " bytes)");
  BzImageInfo info;
  std::memcpy(&info.hdr, image.data() + kSetupHeaderOffset, sizeof(setup_header));
  const auto& h = info.hdr;
  if (h.header != kHdrMagic) return Error("bzImage: no \"HdrS\" setup header signature");
  if (h.boot_flag != 0xaa55) return Error("bzImage: bad boot flag " + hex(h.boot_flag));
  if (h.version < kMinVersion)
    return Error("bzImage: boot protocol " + hex(h.version) + " is older than 2.06");
  if (!(h.loadflags & kLoadedHigh))
    return Error("bzImage: not a bzImage (zImage loaded low is unsupported)");
  if (h.version >= 0x020c && !(h.xloadflags & kXlfKernel64))
    return Error("bzImage: kernel has no 64-bit entry point (XLF_KERNEL_64)");
  uint64_t setup_sects = h.setup_sects ? h.setup_sects : 4;
  info.payload_offset = (setup_sects + 1) * 512;
  if (info.payload_offset >= image.size())
    return Error("bzImage: truncated: setup (" + std::to_string(info.payload_offset) +
                 " bytes) covers the whole file");
  info.payload_size = image.size() - info.payload_offset;
  // syssize counts 16-byte units of the protected-mode kernel.
  if (uint64_t{h.syssize} * 16 > info.payload_size)
    return Error("bzImage: truncated: header says " + std::to_string(uint64_t{h.syssize} * 16) +
                 " bytes of kernel, file has " + std::to_string(info.payload_size));
  return info;
}

namespace {

Result<LoadedKernel> load_bzimage(const GuestMemory& mem, std::span<const uint8_t> image) {
  auto info = parse_bzimage(image);
  if (!info) return std::move(info).error();
  const uint64_t load = x86_64::kHighMemStart;
  if (!mem.write(load, image.data() + info->payload_offset, info->payload_size))
    return Error("bzImage: kernel (" + std::to_string(info->payload_size >> 10) +
                 " KiB) does not fit in guest memory at 1 MiB");
  LoadedKernel k;
  k.entry = load + 0x200;
  k.hdr = info->hdr;
  // The decompressor runs in place and extracts to pref_address; the kernel
  // needs init_size bytes from there (and from the load address when relocated).
  uint64_t end = load + info->payload_size;
  if (info->hdr.version >= 0x020a) {
    uint64_t base = std::max<uint64_t>(info->hdr.pref_address, load);
    end = std::max(end, base + info->hdr.init_size);
  }
  if (!mem.contains(load, end - load))
    return Error("bzImage: kernel needs memory up to " + hex(end) + ", more than the guest has");
  k.load_end = end;
  return k;
}

Result<LoadedKernel> load_elf(const GuestMemory& mem, std::span<const uint8_t> image) {
  if (image.size() < sizeof(Elf64_Ehdr)) return Error("ELF: file too small");
  Elf64_Ehdr eh;
  std::memcpy(&eh, image.data(), sizeof eh);
  if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB)
    return Error("ELF: not a little-endian 64-bit image");
  if (eh.e_machine != EM_X86_64) return Error("ELF: not an x86-64 image");
  if (eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum == 0)
    return Error("ELF: bad program header table");
  if (eh.e_phoff > image.size() ||
      uint64_t{eh.e_phnum} * sizeof(Elf64_Phdr) > image.size() - eh.e_phoff)
    return Error("ELF: program headers beyond end of file");
  LoadedKernel k;
  k.entry = eh.e_entry;
  bool any = false;
  for (unsigned i = 0; i < eh.e_phnum; ++i) {
    Elf64_Phdr ph;
    std::memcpy(&ph, image.data() + eh.e_phoff + i * sizeof(Elf64_Phdr), sizeof ph);
    if (ph.p_type != PT_LOAD) continue;
    if (ph.p_offset > image.size() || ph.p_filesz > image.size() - ph.p_offset)
      return Error("ELF: segment " + std::to_string(i) + " beyond end of file");
    if (ph.p_filesz > ph.p_memsz)
      return Error("ELF: segment " + std::to_string(i) + " file size exceeds memory size");
    uint8_t* dst = mem.translate(ph.p_paddr, ph.p_memsz);
    if (!dst || ph.p_paddr < x86_64::kHighMemStart)
      return Error("ELF: segment " + std::to_string(i) + " at " + hex(ph.p_paddr) +
                   " does not fit in guest memory");
    std::memcpy(dst, image.data() + ph.p_offset, ph.p_filesz);
    std::memset(dst + ph.p_filesz, 0, ph.p_memsz - ph.p_filesz);
    k.load_end = std::max(k.load_end, ph.p_paddr + ph.p_memsz);
    any = true;
  }
  if (!any) return Error("ELF: no loadable segment");
  if (!mem.contains(k.entry, 1))
    return Error("ELF: entry point " + hex(k.entry) + " outside guest memory");
  return k;
}

}  // namespace

Result<LoadedKernel> load_kernel(const GuestMemory& mem, std::span<const uint8_t> image) {
  if (image.size() >= 4 && std::memcmp(image.data(), ELFMAG, SELFMAG) == 0)
    return load_elf(mem, image);
  return load_bzimage(mem, image);
}

}  // namespace runvm::vmm::boot
