// agent::Client against a guest that stops answering.
#include "agent/client.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

namespace runvm::agent {
namespace {

TEST(ClientTimeout, ASilentAgentFailsTheCallInsteadOfHangingIt) {
  int sv[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  Client c(sv[0]);
  c.set_call_timeout(200);
  auto pids = c.ps();  // the peer reads nothing and answers nothing
  ASSERT_FALSE(pids);
  EXPECT_EQ(pids.error().err, ETIMEDOUT);
  EXPECT_NE(pids.error().message.find("agent ps"), std::string::npos) << pids.error().message;
  close(sv[0]);
  close(sv[1]);
}

TEST(ClientTimeout, AClosedConnectionIsAnErrorToo) {
  int sv[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  Client c(sv[0]);
  c.set_call_timeout(5000);
  close(sv[1]);
  auto stats = c.stats();
  ASSERT_FALSE(stats);
  EXPECT_NE(stats.error().err, ETIMEDOUT);
  close(sv[0]);
}

}  // namespace
}  // namespace runvm::agent
