#include "vmm/boot/linux_boot.h"

#include "vmm/arch/x86_64/acpi.h"
#include "vmm/arch/x86_64/boot_params.h"
#include "vmm/arch/x86_64/cpu_setup.h"
#include "vmm/arch/x86_64/e820.h"
#include "vmm/arch/x86_64/layout.h"
#include "vmm/arch/x86_64/mptable.h"
#include "vmm/boot/kernel_image.h"

namespace runvm::vmm::boot {

namespace {
constexpr uint64_t kDefaultInitrdAddrMax = 0x37ffffff;  // protocol default before 2.03
constexpr uint32_t kDefaultCmdlineSize = 2048;          // COMMAND_LINE_SIZE on x86
}  // namespace

Result<uint64_t> place_initrd(uint64_t size, uint64_t addr_max, uint64_t ram_end,
                              uint64_t kernel_end) {
  uint64_t top = std::min(addr_max == UINT64_MAX ? addr_max : addr_max + 1, ram_end);
  if (size > top || top - size < kernel_end)
    return Error("initrd (" + std::to_string(size >> 10) +
                 " KiB) does not fit between the kernel and the highest allowed address");
  uint64_t addr = (top - size) & ~uint64_t{0xfff};
  if (addr < kernel_end) return Error("initrd does not fit above the kernel");
  return addr;
}

Result<LinuxBootInfo> setup_linux_boot(const GuestMemory& mem, const LinuxBootInput& in) {
  using namespace x86_64;
  auto kernel = load_kernel(mem, in.kernel);
  if (!kernel) return std::move(kernel).error().wrap("load kernel");

  uint32_t cmdline_max = kDefaultCmdlineSize;
  uint64_t initrd_max = kDefaultInitrdAddrMax;
  if (kernel->hdr) {
    if (kernel->hdr->cmdline_size) cmdline_max = kernel->hdr->cmdline_size;
    if (kernel->hdr->initrd_addr_max) initrd_max = kernel->hdr->initrd_addr_max;
  }
  if (in.cmdline.size() >= cmdline_max || in.cmdline.size() >= kCmdlineMax)
    return Error("command line is " + std::to_string(in.cmdline.size()) +
                 " bytes; the kernel accepts at most " + std::to_string(cmdline_max - 1));
  if (!mem.write(kCmdlineAddr, in.cmdline.c_str(), in.cmdline.size() + 1))
    return Error("command line outside guest memory");

  BootParamsInput bp;
  bp.hdr = kernel->hdr;
  bp.cmdline_addr = kCmdlineAddr;
  bp.cmdline_size = static_cast<uint32_t>(in.cmdline.size());
  bp.e820 = build_e820(mem);
  if (!in.initrd.empty()) {
    const auto& low = mem.regions().front();
    auto at =
        place_initrd(in.initrd.size(), initrd_max, low.guest_addr + low.size, kernel->load_end);
    if (!at) return std::move(at).error().wrap("load initrd");
    if (!mem.write(*at, in.initrd.data(), in.initrd.size()))
      return Error("load initrd: outside guest memory");
    bp.initrd_addr = *at;
    bp.initrd_size = in.initrd.size();
  }
  // ACPI for kernels without MP-table support (Debian's cloud kernel); the MP
  // table below serves kernels booted with acpi=off.
  AcpiInput acpi;
  acpi.cpus = in.cpus;
  acpi.pci_mmio_base = in.pci_mmio_base;
  acpi.pci_mmio_end = in.pci_mmio_end;
  acpi.pci_intx = in.pci_intx;
  auto tables = build_acpi_tables(acpi, kAcpiAddr);
  if (!tables) return std::move(tables).error();
  if (tables->size() > kAcpiMax || !mem.write(kAcpiAddr, tables->data(), tables->size()))
    return Error("ACPI tables do not fit in guest memory");
  bp.acpi_rsdp = kAcpiAddr;

  auto params = build_boot_params(bp);
  if (!params) return std::move(params).error().wrap("boot_params");
  if (!mem.write_obj(kZeroPageAddr, *params)) return Error("boot_params outside guest memory");

  if (auto s = write_page_tables(mem); !s) return s.error();
  if (auto s = write_gdt(mem); !s) return s.error();

  MpTableInput mp;
  mp.cpus = in.cpus;
  mp.pci_intx = in.pci_intx;
  mp.cpu_signature = in.cpu_signature;
  mp.cpu_features = in.cpu_features;
  auto table = build_mptable(mp, kMpTableAddr);
  if (!table) return std::move(table).error();
  if (table->size() > kMpTableMax || !mem.write(kMpTableAddr, table->data(), table->size()))
    return Error("MP table does not fit in guest memory");

  LinuxBootInfo info;
  info.entry = kernel->entry;
  info.boot_params = kZeroPageAddr;
  info.initrd_addr = bp.initrd_addr;
  return info;
}

}  // namespace runvm::vmm::boot
