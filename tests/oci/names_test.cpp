#include <sys/resource.h>
#include <csignal>

#include <gtest/gtest.h>

#include "oci/names.h"

namespace runvm::oci {
namespace {

TEST(Names, Signals) {
  EXPECT_EQ(parse_signal("KILL"), SIGKILL);
  EXPECT_EQ(parse_signal("SIGKILL"), SIGKILL);
  EXPECT_EQ(parse_signal("sigterm"), SIGTERM);
  EXPECT_EQ(parse_signal("term"), SIGTERM);
  EXPECT_EQ(parse_signal("9"), 9);
  EXPECT_EQ(parse_signal("15"), SIGTERM);
  EXPECT_EQ(parse_signal("SIGUSR1"), SIGUSR1);
  EXPECT_EQ(parse_signal("WINCH"), SIGWINCH);
  EXPECT_EQ(parse_signal("SIGRTMIN"), SIGRTMIN);
  EXPECT_EQ(parse_signal("RTMIN+3"), SIGRTMIN + 3);
  EXPECT_EQ(parse_signal("SIGRTMAX-1"), SIGRTMAX - 1);
  EXPECT_EQ(parse_signal("SIGRTMAX"), SIGRTMAX);
  for (const char* bad :
       {"", "0", "65", "-9", "SIGFOO", "KILLX", "9x", "RTMIN+40", "RTMAX+1", "RTMIN-1"}) {
    EXPECT_FALSE(parse_signal(bad).has_value()) << bad;
  }
  EXPECT_EQ(signal_name(SIGKILL), "SIGKILL");
  EXPECT_EQ(signal_name(SIGABRT), "SIGABRT");
  EXPECT_EQ(signal_name(SIGCHLD), "SIGCHLD");
  EXPECT_EQ(signal_name(SIGRTMIN + 2), "SIGRTMIN+2");
  EXPECT_EQ(signal_name(SIGRTMAX - 2), "SIGRTMAX-2");
  EXPECT_FALSE(signal_name(0).has_value());
  EXPECT_FALSE(signal_name(65).has_value());
  for (int sig = 1; sig <= 64; ++sig) {
    if (auto n = signal_name(sig)) {
      EXPECT_EQ(parse_signal(*n), sig) << *n;
    }
  }
}

TEST(Names, Capabilities) {
  EXPECT_EQ(capability_number("CAP_CHOWN"), 0);
  EXPECT_EQ(capability_number("CAP_SYS_ADMIN"), 21);
  EXPECT_EQ(capability_number("CAP_CHECKPOINT_RESTORE"), 40);
  EXPECT_FALSE(capability_number("SYS_ADMIN").has_value());
  int i = 0;
  for (const auto& c : capabilities()) EXPECT_EQ(c.value, i++) << c.name;
}

TEST(Names, Rlimits) {
  EXPECT_EQ(rlimit_number("RLIMIT_NOFILE"), RLIMIT_NOFILE);
  EXPECT_EQ(rlimit_number("RLIMIT_AS"), RLIMIT_AS);
  EXPECT_EQ(rlimit_number("RLIMIT_RTTIME"), RLIMIT_RTTIME);
  EXPECT_EQ(rlimits().size(), static_cast<size_t>(RLIMIT_NLIMITS));
}

TEST(Names, Tables) {
  EXPECT_TRUE(contains(namespace_types(), "network"));
  EXPECT_FALSE(contains(namespace_types(), "net"));
  EXPECT_TRUE(contains(seccomp_actions(), "SCMP_ACT_KILL_PROCESS"));
  EXPECT_TRUE(contains(seccomp_operators(), "SCMP_CMP_NE"));
  EXPECT_TRUE(contains(seccomp_archs(), "SCMP_ARCH_AARCH64"));
  EXPECT_TRUE(contains(io_priority_classes(), "IOPRIO_CLASS_IDLE"));
  EXPECT_TRUE(contains(personality_domains(), "LINUX32"));
  EXPECT_TRUE(contains(rootfs_propagations(), "rslave"));
}

}  // namespace
}  // namespace runvm::oci
