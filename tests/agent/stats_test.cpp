// agent/stats.h: reading a cgroup v2 directory and the JSON the guest sends back.
#include "agent/stats.h"

#include <gtest/gtest.h>

#include <fstream>
#include <limits>

#include "tests/support/temp_dir.h"

namespace runvm::agent {
namespace {

using json = nlohmann::json;

class CgroupStats : public ::testing::Test {
 protected:
  // cgroupfs files as the kernel formats them.
  void put(const std::string& name, const std::string& text) { std::ofstream(dir_ / name) << text; }
  runvm::testing::TempDir dir_;
};

TEST_F(CgroupStats, ReadsCgroupV2FilesInRuncUnits) {
  put("cpu.stat",
      "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\nnr_periods 10\nnr_throttled 3\n"
      "throttled_usec 42\n");
  put("memory.current", "8192\n");
  put("memory.max", "max\n");
  put("memory.peak", "12288\n");
  put("memory.events", "low 0\nhigh 0\nmax 4\noom 1\noom_kill 1\n");
  put("memory.swap.current", "0\n");
  put("memory.swap.max", "1048576\n");
  put("memory.stat", "anon 4096\nfile 2048\nBadName 1\n");
  put("pids.current", "3\n");
  put("pids.max", "max\n");
  auto s = read_cgroup_stats(dir_.path());
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->cpu.total_ns, 1500000u);
  EXPECT_EQ(s->cpu.user_ns, 1000000u);
  EXPECT_EQ(s->cpu.kernel_ns, 500000u);
  EXPECT_EQ(s->cpu.throttled_periods, 3u);
  EXPECT_EQ(s->cpu.throttled_ns, 42000u);
  EXPECT_EQ(s->memory.usage.usage, 8192u);
  EXPECT_EQ(s->memory.usage.limit, std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(s->memory.usage.max, 12288u);
  EXPECT_EQ(s->memory.usage.failcnt, 4u);
  EXPECT_EQ(s->memory.swap.limit, 1048576u);
  EXPECT_EQ(s->memory.cache, 2048u);
  EXPECT_EQ(s->memory.raw.count("anon"), 1u);
  EXPECT_EQ(s->memory.raw.count("BadName"), 0u);
  EXPECT_EQ(s->pids.current, 3u);
  EXPECT_EQ(s->pids.limit, 0u);  // "max": runc reports no limit as 0
}

TEST_F(CgroupStats, MissingControllersLeaveZerosButCpuStatIsRequired) {
  auto none = read_cgroup_stats(dir_.path());
  ASSERT_FALSE(none);
  EXPECT_NE(none.error().message.find("cpu.stat"), std::string::npos);
  put("cpu.stat", "usage_usec 7\n");
  put("pids.max", "64\n");
  auto s = read_cgroup_stats(dir_.path());
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->cpu.total_ns, 7000u);
  EXPECT_EQ(s->memory.usage.usage, 0u);
  EXPECT_EQ(s->pids.limit, 64u);
}

TEST(StatsJson, RoundTripsInRuncsShape) {
  ContainerStats s;
  s.cpu.total_ns = 5;
  s.cpu.throttled_periods = 2;
  s.memory.usage.limit = 1 << 20;
  s.memory.usage.usage = 4096;
  s.memory.raw["anon"] = 7;
  s.pids.current = 2;
  json j = to_json(s);
  EXPECT_EQ(j["cpu"]["usage"]["total"], 5);
  EXPECT_EQ(j["cpu"]["throttling"]["throttledPeriods"], 2);
  EXPECT_EQ(j["memory"]["usage"]["limit"], 1 << 20);
  EXPECT_EQ(j["memory"]["raw"]["anon"], 7);
  EXPECT_EQ(j["pids"]["current"], 2);
  auto back = stats_from_json(j);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(*back, s);
}

TEST(StatsJson, RejectsHostileInputAndDropsUnknownFields) {
  json extra = to_json(ContainerStats{});
  extra["injected"] = "x";
  auto ok = stats_from_json(extra);
  ASSERT_TRUE(ok);
  EXPECT_FALSE(to_json(*ok).contains("injected"));

  json neg = to_json(ContainerStats{});
  neg["pids"]["current"] = -1;
  EXPECT_FALSE(stats_from_json(neg));
  json str = to_json(ContainerStats{});
  str["cpu"]["usage"]["total"] = "many";
  auto e = stats_from_json(str);
  ASSERT_FALSE(e);
  EXPECT_NE(e.error().message.find("stats.cpu.usage.total"), std::string::npos);
  json name = to_json(ContainerStats{});
  name["memory"]["raw"]["../etc"] = 1;
  EXPECT_FALSE(stats_from_json(name));
  json many = to_json(ContainerStats{});
  for (size_t i = 0; i <= kMaxRawStats; ++i) many["memory"]["raw"]["k" + std::to_string(i)] = i;
  EXPECT_FALSE(stats_from_json(many));
  EXPECT_FALSE(stats_from_json(json::array()));
  EXPECT_FALSE(stats_from_json(json{{"memory", 3}}));
}

}  // namespace
}  // namespace runvm::agent
