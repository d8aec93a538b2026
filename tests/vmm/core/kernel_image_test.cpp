#include <elf.h>
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "vmm/boot/kernel_image.h"

namespace runvm::vmm::boot {
namespace {

// A synthetic bzImage: setup sectors + a small protected-mode payload.
std::vector<uint8_t> make_bzimage(uint16_t version = 0x020f, size_t payload = 4096) {
  const uint8_t setup_sects = 4;
  std::vector<uint8_t> img((setup_sects + 1) * 512 + payload, 0xcc);
  setup_header h{};
  h.setup_sects = setup_sects;
  h.boot_flag = 0xaa55;
  h.header = 0x53726448;
  h.version = version;
  h.loadflags = 0x01;
  h.xloadflags = 0x01;
  h.syssize = static_cast<uint32_t>(payload / 16);
  h.cmdline_size = 2047;
  h.initrd_addr_max = 0x7fffffff;
  h.pref_address = 0x1000000;
  h.init_size = 0x100000;
  std::memcpy(img.data() + 0x1f1, &h, sizeof h);
  return img;
}

TEST(BzImage, ParsesHeader) {
  auto img = make_bzimage();
  auto info = parse_bzimage(img);
  ASSERT_TRUE(info) << info.error().what();
  EXPECT_EQ(info->payload_offset, 5u * 512);
  EXPECT_EQ(info->payload_size, 4096u);
  EXPECT_EQ(info->hdr.cmdline_size, 2047u);
}

TEST(BzImage, RejectsBogusAndTruncatedImages) {
  std::vector<uint8_t> tiny(100, 0);
  auto r = parse_bzimage(tiny);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().what().find("too small"), std::string::npos);

  auto bad_magic = make_bzimage();
  bad_magic[0x202] = 'X';
  r = parse_bzimage(bad_magic);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().what().find("HdrS"), std::string::npos);

  r = parse_bzimage(make_bzimage(0x0205));
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().what().find("older than 2.06"), std::string::npos);

  auto truncated = make_bzimage();
  truncated.resize(truncated.size() - 1000);
  r = parse_bzimage(truncated);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().what().find("truncated"), std::string::npos);

  auto setup_only = make_bzimage();
  setup_only.resize(5 * 512);
  EXPECT_FALSE(parse_bzimage(setup_only));

  auto no64 = make_bzimage();
  no64[0x236] = 0;  // xloadflags
  r = parse_bzimage(no64);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().what().find("64-bit"), std::string::npos);
}

class LoadTest : public ::testing::Test {
 protected:
  std::vector<uint8_t> ram = std::vector<uint8_t>(64 << 20);
  GuestMemory mem = GuestMemory::from_regions({{0, ram.size(), ram.data()}});
};

TEST_F(LoadTest, BzImageLoadsAtOneMiB) {
  auto img = make_bzimage();
  auto k = load_kernel(mem, img);
  ASSERT_TRUE(k) << k.error().what();
  EXPECT_EQ(k->entry, 0x100200u);
  ASSERT_TRUE(k->hdr.has_value());
  EXPECT_EQ(ram[0x100000], 0xcc);
  EXPECT_EQ(ram[0x100000 + 4095], 0xcc);
  EXPECT_EQ(ram[0x100000 + 4096], 0);
  EXPECT_GE(k->load_end, 0x1000000u + 0x100000u);  // pref_address + init_size
}

TEST_F(LoadTest, BzImageNeedingMoreMemoryIsRejected) {
  auto img = make_bzimage();
  setup_header h;
  std::memcpy(&h, img.data() + 0x1f1, sizeof h);
  h.init_size = 512u << 20;
  std::memcpy(img.data() + 0x1f1, &h, sizeof h);
  EXPECT_FALSE(load_kernel(mem, img));
}

std::vector<uint8_t> make_elf(uint64_t paddr, uint64_t filesz, uint64_t memsz,
                              uint64_t file_extra = 0) {
  std::vector<uint8_t> img(sizeof(Elf64_Ehdr) + sizeof(Elf64_Phdr) + filesz + file_extra, 0);
  Elf64_Ehdr eh{};
  std::memcpy(eh.e_ident, ELFMAG, SELFMAG);
  eh.e_ident[EI_CLASS] = ELFCLASS64;
  eh.e_ident[EI_DATA] = ELFDATA2LSB;
  eh.e_machine = EM_X86_64;
  eh.e_entry = paddr;
  eh.e_phoff = sizeof(Elf64_Ehdr);
  eh.e_phentsize = sizeof(Elf64_Phdr);
  eh.e_phnum = 1;
  Elf64_Phdr ph{};
  ph.p_type = PT_LOAD;
  ph.p_offset = sizeof(Elf64_Ehdr) + sizeof(Elf64_Phdr);
  ph.p_paddr = paddr;
  ph.p_filesz = filesz;
  ph.p_memsz = memsz;
  std::memcpy(img.data(), &eh, sizeof eh);
  std::memcpy(img.data() + sizeof eh, &ph, sizeof ph);
  std::memset(img.data() + ph.p_offset, 0xab, filesz);
  return img;
}

TEST_F(LoadTest, ElfSegmentsLoadedAndBssZeroed) {
  std::memset(ram.data() + 0x1000000, 0x77, 0x3000);
  auto img = make_elf(0x1000000, 0x1000, 0x2000);
  auto k = load_kernel(mem, img);
  ASSERT_TRUE(k) << k.error().what();
  EXPECT_EQ(k->entry, 0x1000000u);
  EXPECT_FALSE(k->hdr.has_value());
  EXPECT_EQ(ram[0x1000000], 0xab);
  EXPECT_EQ(ram[0x1000fff], 0xab);
  EXPECT_EQ(ram[0x1001000], 0);  // bss
  EXPECT_EQ(ram[0x1002000], 0x77);
  EXPECT_EQ(k->load_end, 0x1002000u);
}

TEST_F(LoadTest, ElfOutOfBoundsSegmentsRejected) {
  EXPECT_FALSE(load_kernel(mem, make_elf(63ull << 20, 0x1000, 2 << 20)));  // past RAM end
  EXPECT_FALSE(load_kernel(mem, make_elf(~0ull - 0x10, 0x100, 0x100)));    // wraps
  EXPECT_FALSE(load_kernel(mem, make_elf(0x1000000, 0x2000, 0x1000)));     // filesz > memsz
  auto img = make_elf(0x1000000, 0x1000, 0x1000);
  img.resize(img.size() - 10);  // segment beyond end of file
  EXPECT_FALSE(load_kernel(mem, img));
}

}  // namespace
}  // namespace runvm::vmm::boot
