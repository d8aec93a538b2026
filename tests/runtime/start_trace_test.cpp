#include "runtime/vm/start_trace.h"

#include <gtest/gtest.h>

namespace runvm::runtime::vm {
namespace {

TEST(StartTrace, ReadsTheVmmLineAmongOthers) {
  StartTrace t;
  std::string log =
      "runvm-vmm: jail: note\nrunvm-vmm: start trace: main=1000 guest_entry=25000\nmore\n";
  ASSERT_TRUE(parse_vmm_start_line(log, t));
  EXPECT_EQ(t.vmm_main, 1000u);
  EXPECT_EQ(t.guest_entry, 25000u);
}

TEST(StartTrace, IgnoresAMissingOrBrokenVmmLine) {
  StartTrace t;
  EXPECT_FALSE(parse_vmm_start_line("runvm-vmm: something else\n", t));
  EXPECT_FALSE(parse_vmm_start_line("runvm-vmm: start trace: main=x guest_entry=1\n", t));
  EXPECT_FALSE(parse_vmm_start_line("runvm-vmm: start trace: main=1\nguest_entry=2\n", t));
  EXPECT_EQ(t, StartTrace{});
}

TEST(StartTrace, PlacesGuestStepsOnTheHostClock) {
  // The reply left the guest at its 5,000 and arrived at the host's 1,000,000.
  agent::GuestBootTimes g{.now = 5000, .init = 1000, .modules = 2000, .rootfs = 0, .listen = 4000};
  StartTrace t;
  place_guest_times(g, 1000000, t);
  EXPECT_EQ(t.guest_init, 996000u);
  EXPECT_EQ(t.guest_modules, 997000u);
  EXPECT_EQ(t.guest_rootfs, 0u);  // not reported: stays unknown
  EXPECT_EQ(t.agent_listen, 999000u);
}

TEST(StartTrace, DropsGuestStepsThatCannotBeTrue) {
  // A step after the guest's own `now`, or a `now` beyond the host's clock, is not placed.
  agent::GuestBootTimes g{.now = 5000, .init = 6000, .modules = 2000, .rootfs = 0, .listen = 0};
  StartTrace t;
  place_guest_times(g, 1000000, t);
  EXPECT_EQ(t.guest_init, 0u);
  EXPECT_EQ(t.guest_modules, 997000u);
  StartTrace u;
  place_guest_times(agent::GuestBootTimes{.now = 2000000, .init = 1}, 1000000, u);
  EXPECT_EQ(u, StartTrace{});
}

TEST(StartTrace, RoundTripsThroughJson) {
  StartTrace t;
  t.vmm_spawn = 10;
  t.guest_init = 20;
  t.exited = 30;
  auto j = to_json(t);
  EXPECT_FALSE(j.contains("created"));  // steps not reached are left out
  auto back = start_trace_from_json(j);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(*back, t);
  auto bad = start_trace_from_json(nlohmann::json{{"created", -1}});
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("created"), std::string::npos) << bad.error().message;
  EXPECT_FALSE(start_trace_from_json(nlohmann::json::array()));
}

TEST(StartTrace, FormatsMillisecondsFromTheOrigin) {
  StartTrace t;
  t.vmm_spawn = 3'000'000;
  t.guest_init = 1'503'000'000;
  EXPECT_EQ(format_start_trace(t, 1'000'000, 2'001'000'000),
            "vmm_spawn=2.0 guest_init=1502.0 end=2000.0");
}

}  // namespace
}  // namespace runvm::runtime::vm
