// Capability sets are applied exactly: checked in forked children through
// /proc/self/status, including across a switch to a non-root user.
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "guest-init/capabilities.h"
#include "guest-init/process_setup.h"
#include "tests/guest-init/child.h"

namespace runvm::guest {
namespace {

using testing::exited_ok;
using testing::run_in_child;

// The hex mask of a Cap* line of /proc/self/status ("CapEff").
uint64_t status_mask(const std::string& key) {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind(key + ":", 0) == 0) return std::stoull(line.substr(key.size() + 1), nullptr, 16);
  return ~0ull;
}

constexpr uint64_t bit(int n) {
  return 1ull << n;
}

TEST(Capabilities, ResolvesNamesAndRejectsUnknownOnes) {
  oci::Capabilities c;
  c.bounding = oci::StringList{"CAP_CHOWN", "CAP_KILL", "CAP_KILL"};
  c.effective = oci::StringList{"CAP_NET_BIND_SERVICE"};
  auto s = resolve_capabilities(c);
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->bounding, (std::vector<int>{0, 5}));
  EXPECT_EQ(s->effective, (std::vector<int>{10}));
  EXPECT_TRUE(s->ambient.empty());
  c.ambient = oci::StringList{"CAP_FOO"};
  auto bad = resolve_capabilities(c);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message, "capabilities.ambient: unknown capability \"CAP_FOO\"");
}

TEST(Capabilities, AppliesAllFiveSets) {
  SKIP_UNLESS_ROOT();
  oci::Capabilities c;
  c.bounding = oci::StringList{"CAP_CHOWN", "CAP_KILL", "CAP_SETPCAP", "CAP_NET_RAW"};
  c.permitted = oci::StringList{"CAP_CHOWN", "CAP_KILL", "CAP_NET_RAW"};
  c.effective = oci::StringList{"CAP_CHOWN", "CAP_KILL"};
  c.inheritable = oci::StringList{"CAP_KILL", "CAP_NET_RAW"};
  c.ambient = oci::StringList{"CAP_NET_RAW"};
  int ws = run_in_child([&] {
    auto s = resolve_capabilities(c);
    if (!s) return 1;
    if (!apply_bounding_set(*s)) return 2;
    if (!apply_process_capabilities(*s)) return 3;
    if (status_mask("CapBnd") != (bit(0) | bit(5) | bit(8) | bit(13))) return 4;
    if (status_mask("CapPrm") != (bit(0) | bit(5) | bit(13))) return 5;
    if (status_mask("CapEff") != (bit(0) | bit(5))) return 6;
    if (status_mask("CapInh") != (bit(5) | bit(13))) return 7;
    if (status_mask("CapAmb") != bit(13)) return 8;
    return 0;
  });
  EXPECT_TRUE(exited_ok(ws)) << "child status " << ws;
}

TEST(Capabilities, AmbientWithoutInheritableIsSkippedAsRuncDoes) {
  SKIP_UNLESS_ROOT();
  // `runc spec` lists ambient caps but no inheritable set; runc runs it.
  oci::Capabilities c;
  c.bounding = oci::StringList{"CAP_KILL", "CAP_NET_BIND_SERVICE"};
  c.permitted = oci::StringList{"CAP_KILL", "CAP_NET_BIND_SERVICE"};
  c.effective = oci::StringList{"CAP_KILL", "CAP_NET_BIND_SERVICE"};
  c.ambient = oci::StringList{"CAP_KILL", "CAP_NET_BIND_SERVICE"};
  int ws = run_in_child([&] {
    auto s = resolve_capabilities(c);
    if (!s) return 1;
    if (!apply_bounding_set(*s)) return 2;
    if (!apply_process_capabilities(*s)) return 3;
    if (status_mask("CapEff") != (bit(5) | bit(10))) return 4;
    if (status_mask("CapAmb") != 0) return 5;
    return 0;
  });
  EXPECT_TRUE(exited_ok(ws)) << "child status " << ws;
}

TEST(Capabilities, SurviveTheSwitchToAnUnprivilegedUser) {
  SKIP_UNLESS_ROOT();
  oci::Capabilities c;
  c.bounding = c.permitted = c.effective = oci::StringList{"CAP_KILL", "CAP_CHOWN"};
  int ws = run_in_child([&] {
    auto s = resolve_capabilities(c);
    if (!s || !apply_bounding_set(*s)) return 1;
    oci::User u;
    u.uid = 1234;
    u.gid = 1234;
    if (!apply_user(u)) return 2;
    if (getuid() != 1234 || geteuid() != 1234) return 3;
    if (!apply_process_capabilities(*s)) return 4;
    if (status_mask("CapEff") != (bit(0) | bit(5))) return 5;
    return 0;
  });
  EXPECT_TRUE(exited_ok(ws)) << "child status " << ws;
}

TEST(Capabilities, AbsentSetsMeanNoCapabilities) {
  SKIP_UNLESS_ROOT();
  int ws = run_in_child([&] {
    auto s = resolve_capabilities(oci::Capabilities{});
    if (!s || !apply_bounding_set(*s) || !apply_process_capabilities(*s)) return 1;
    if (status_mask("CapEff") != 0 || status_mask("CapBnd") != 0) return 2;
    return 0;
  });
  EXPECT_TRUE(exited_ok(ws)) << "child status " << ws;
}

}  // namespace
}  // namespace runvm::guest
