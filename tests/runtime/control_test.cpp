// The supervisor's control socket (runtime/vm/control.h).
#include "runtime/vm/control.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test_support.h"

namespace runvm::runtime::vm {
namespace {

// ctl.sock can kill, pause and update the container: owner only, even with umask 0.
TEST(ControlSocket, IsOwnerOnlyWhateverTheUmask) {
  testing::TempDir dir;
  mode_t old = ::umask(0);
  auto fd = control_listen(dir / "ctl.sock");
  ::umask(old);
  ASSERT_TRUE(fd) << fd.error().message;
  struct stat st {};
  ASSERT_EQ(::stat((dir / "ctl.sock").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  ::close(*fd);
}

}  // namespace
}  // namespace runvm::runtime::vm
