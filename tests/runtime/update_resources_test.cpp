// runtime/update_resources.h: runc's `update` flags over a -r document.
#include "runtime/update_resources.h"

#include <gtest/gtest.h>

namespace runvm::runtime {
namespace {

TEST(UpdateResources, MemoryValuesTakeUnitsAsRuncDoes) {
  EXPECT_EQ(*parse_memory_bytes("memory", "1024"), 1024);
  EXPECT_EQ(*parse_memory_bytes("memory", "512m"), 512ll << 20);
  EXPECT_EQ(*parse_memory_bytes("memory", "2G"), 2ll << 30);
  EXPECT_EQ(*parse_memory_bytes("memory", "3KiB"), 3072);
  EXPECT_EQ(*parse_memory_bytes("memory", "-1"), -1);
  for (const char* bad : {"", "m", "12x", "-2", "1.5g", "99999999999t"}) {
    auto r = parse_memory_bytes("memory", bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().message.rfind("--memory: ", 0), 0u) << r.error().message;
  }
}

TEST(UpdateResources, FlagsWinOverTheDocument) {
  oci::Resources base;
  base.memory = oci::Memory{};
  base.memory->limit = 100;
  base.memory->reservation = 50;
  base.pids = oci::Pids{10};
  UpdateFlags f;
  f.memory = "1m";
  f.cpu_quota = "-1";
  f.cpu_period = "50000";
  f.cpuset_cpus = "0-1";
  f.blkio_weight = "300";
  auto r = apply_update_flags(base, f);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->memory->limit, 1 << 20);
  EXPECT_EQ(r->memory->reservation, 50);  // untouched by flags
  EXPECT_EQ(r->pids->limit, 10);
  EXPECT_EQ(r->cpu->quota, -1);
  EXPECT_EQ(r->cpu->period, 50000u);
  EXPECT_EQ(r->cpu->cpus, "0-1");
  EXPECT_EQ(r->blockIO->weight, 300);
  EXPECT_FALSE(r->cpu->shares);
}

TEST(UpdateResources, BadFlagsAreNamed) {
  UpdateFlags quota;
  quota.cpu_quota = "lots";
  auto q = apply_update_flags({}, quota);
  ASSERT_FALSE(q);
  EXPECT_EQ(q.error().message, "--cpu-quota: invalid value \"lots\"");
  UpdateFlags weight;
  weight.blkio_weight = "70000";
  EXPECT_FALSE(apply_update_flags({}, weight));
  UpdateFlags rdt;
  rdt.l3_cache_schema = "L3:0=f";
  auto r = apply_update_flags({}, rdt);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().err, ENOTSUP);
}

}  // namespace
}  // namespace runvm::runtime
