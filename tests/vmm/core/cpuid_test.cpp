#include <gtest/gtest.h>

#include "vmm/arch/x86_64/cpuid.h"

namespace runvm::vmm::x86_64 {
namespace {

kvm_cpuid_entry2 leaf(uint32_t fn, uint32_t index = 0) {
  kvm_cpuid_entry2 e{};
  e.function = fn;
  e.index = index;
  return e;
}

const kvm_cpuid_entry2* find(const std::vector<kvm_cpuid_entry2>& v, uint32_t fn,
                             uint32_t index = 0) {
  for (auto& e : v)
    if (e.function == fn && e.index == index) return &e;
  return nullptr;
}

TEST(Cpuid, PatchesApicIdTopologyAndHypervisorBit) {
  std::vector<kvm_cpuid_entry2> v = {leaf(0),      leaf(1),          leaf(0xb, 0),    leaf(0xb, 1),
                                     leaf(0xb, 2), leaf(0x40000000), leaf(0x80000008)};
  v[1].ebx = 0x00000800;  // CLFLUSH size 8, must survive
  v[5].eax = 0x40000001;
  v[5].ebx = 0x4b4d564b;  // "KVMK"
  patch_cpuid(v, 3, 4);
  auto* l1 = find(v, 1);
  EXPECT_EQ(l1->ebx >> 24, 3u);
  EXPECT_EQ((l1->ebx >> 16) & 0xff, 4u);
  EXPECT_EQ(l1->ebx & 0xffff, 0x0800u);
  EXPECT_TRUE(l1->ecx & (1u << 31));
  EXPECT_TRUE(l1->edx & (1u << 28));
  auto* smt = find(v, 0xb, 0);
  auto* core = find(v, 0xb, 1);
  auto* end = find(v, 0xb, 2);
  EXPECT_EQ(smt->edx, 3u);
  EXPECT_EQ(smt->ebx, 1u);
  EXPECT_EQ((smt->ecx >> 8) & 0xff, 1u);
  EXPECT_EQ(core->eax, 2u);  // 4 CPUs need 2 bits
  EXPECT_EQ(core->ebx, 4u);
  EXPECT_EQ((core->ecx >> 8) & 0xff, 2u);
  EXPECT_EQ((end->ecx >> 8) & 0xff, 0u);
  EXPECT_EQ(find(v, 0x80000008)->ecx & 0xff, 3u);
  // The KVM signature leaf is untouched.
  EXPECT_EQ(find(v, 0x40000000)->ebx, 0x4b4d564bu);
  EXPECT_EQ(find(v, 0x40000000)->eax, 0x40000001u);
}

TEST(Cpuid, SingleCpuHasNoHtt) {
  std::vector<kvm_cpuid_entry2> v = {leaf(1)};
  v[0].edx = 1u << 28;
  patch_cpuid(v, 0, 1);
  EXPECT_FALSE(v[0].edx & (1u << 28));
  EXPECT_EQ(v[0].ebx >> 24, 0u);
}

TEST(Cpuid, OrderOf) {
  EXPECT_EQ(order_of(1), 0u);
  EXPECT_EQ(order_of(2), 1u);
  EXPECT_EQ(order_of(3), 2u);
  EXPECT_EQ(order_of(64), 6u);
}

}  // namespace
}  // namespace runvm::vmm::x86_64
