// exec_process(): runc's rules for the process `runvm exec` starts.
#include "runtime/exec_process_spec.h"

#include <gtest/gtest.h>

namespace runvm::runtime {
namespace {

oci::Process base() {
  oci::Process p;
  p.args = oci::StringList{"sleep", "1000"};
  p.env = oci::StringList{"PATH=/usr/bin:/bin", "TERM=xterm"};
  p.cwd = "/";
  p.user.uid = 0;
  p.user.gid = 0;
  p.terminal = true;
  p.capabilities = oci::Capabilities{};
  p.capabilities->bounding = oci::StringList{"CAP_CHOWN"};
  p.capabilities->effective = oci::StringList{"CAP_CHOWN"};
  return p;
}

TEST(ExecProcess, ArgsReplaceAndTerminalFollowsTheFlag) {
  auto p = exec_process(base(), {.args = {"sh", "-c", "echo hi"}});
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(*p->args, (oci::StringList{"sh", "-c", "echo hi"}));
  EXPECT_EQ(p->terminal, false);
  EXPECT_EQ(*p->env, *base().env);
  EXPECT_EQ(p->cwd, "/");
  auto t = exec_process(base(), {.args = {"sh"}, .tty = true});
  ASSERT_TRUE(t);
  EXPECT_EQ(t->terminal, true);
}

TEST(ExecProcess, EnvIsAppendedOrReplacedByName) {
  auto p = exec_process(base(), {.args = {"env"}, .env = {"TERM=dumb", "A=1"}});
  ASSERT_TRUE(p);
  EXPECT_EQ(*p->env, (oci::StringList{"PATH=/usr/bin:/bin", "TERM=dumb", "A=1"}));
  auto bad = exec_process(base(), {.args = {"env"}, .env = {"NOEQUALS"}});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message, "--env \"NOEQUALS\": want KEY=VALUE");
}

TEST(ExecProcess, UserAndGroups) {
  auto p =
      exec_process(base(), {.args = {"id"}, .user = "1000:100", .additional_gids = {"5", "7"}});
  ASSERT_TRUE(p);
  EXPECT_EQ(p->user.uid, 1000u);
  EXPECT_EQ(p->user.gid, 100u);
  EXPECT_EQ(*p->user.additionalGids, (std::vector<uint32_t>{5, 7}));
  auto only_uid = exec_process(base(), {.args = {"id"}, .user = "42"});
  ASSERT_TRUE(only_uid);
  EXPECT_EQ(only_uid->user.uid, 42u);
  EXPECT_EQ(only_uid->user.gid, 0u);
  for (const char* bad : {"bob", "1:x", "", ":5", "-1"}) {
    if (!*bad) continue;  // "" means "not given"
    auto r = exec_process(base(), {.args = {"id"}, .user = bad});
    EXPECT_FALSE(r) << bad;
  }
}

TEST(ExecProcess, CwdMustBeAbsolute) {
  auto p = exec_process(base(), {.args = {"pwd"}, .cwd = "/tmp"});
  ASSERT_TRUE(p);
  EXPECT_EQ(p->cwd, "/tmp");
  auto bad = exec_process(base(), {.args = {"pwd"}, .cwd = "tmp"});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message, "--cwd \"tmp\": must be absolute");
}

TEST(ExecProcess, CapsJoinEverySetButAmbientOnce) {
  auto p = exec_process(base(), {.args = {"x"}, .caps = {"CAP_NET_ADMIN", "CAP_CHOWN"}});
  ASSERT_TRUE(p);
  EXPECT_EQ(*p->capabilities->bounding, (oci::StringList{"CAP_CHOWN", "CAP_NET_ADMIN"}));
  EXPECT_EQ(*p->capabilities->permitted, (oci::StringList{"CAP_NET_ADMIN", "CAP_CHOWN"}));
  EXPECT_FALSE(p->capabilities->ambient.has_value());
  auto bad = exec_process(base(), {.args = {"x"}, .caps = {"CAP_FLY"}});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message, "--cap \"CAP_FLY\": unknown capability");
}

TEST(ExecProcess, NoArgsIsAnError) {
  EXPECT_FALSE(exec_process(base(), {}));
}

}  // namespace
}  // namespace runvm::runtime
