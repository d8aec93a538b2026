// agent/pty.h: the pty comes from the named devpts instance when that is a real
// ptmx reached without symlinks, and from /dev/ptmx otherwise.
#include "agent/pty.h"

#include <gtest/gtest.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "tests/support/temp_dir.h"

namespace runvm::agent {
namespace {

namespace fs = std::filesystem;

// The devpts instance (st_dev) the slave of a master from `where` belongs to, or 0.
dev_t peer_dev(const PtmxLocation& where) {
  auto m = open_pty_master(where);
  if (!m) return 0;
  auto p = open_pty_peer(*m);
  dev_t d = 0;
  struct stat st {};
  if (p && isatty(*p) && fstat(*p, &st) == 0) d = st.st_dev;
  if (p) close(*p);
  close(*m);
  return d;
}

TEST(Pty, DefaultIsTheAgentsOwnPtmx) {
  dev_t d = peer_dev({});
  ASSERT_NE(d, 0u);
  struct stat pts {};
  ASSERT_EQ(stat("/dev/pts", &pts), 0);
  EXPECT_EQ(d, pts.st_dev);
}

// In a child with its own mount namespace: a fresh devpts instance under a temp dir.
TEST(Pty, ComesFromTheContainersDevptsButNeverThroughASymlink) {
  if (geteuid() != 0) GTEST_SKIP() << "mounting devpts needs root";
  runvm::testing::TempDir tmp;
  const std::string& root = tmp.path();
  fs::create_directories(root + "/c/dev/pts");
  fs::create_directories(root + "/evil/dev");
  fs::create_directory_symlink(root + "/c/dev/pts", root + "/evil/dev/pts");
  fs::create_directories(root + "/file/dev/pts");
  std::ofstream(root + "/file/dev/pts/ptmx") << "not a device";
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    if (unshare(CLONE_NEWNS) < 0 || mount("", "/", nullptr, MS_REC | MS_PRIVATE, nullptr) < 0)
      _exit(10);
    const std::string pts = root + "/c/dev/pts";
    if (mount("devpts", pts.c_str(), "devpts", 0, "newinstance,ptmxmode=0666") < 0) _exit(11);
    struct stat inst {};
    if (stat(pts.c_str(), &inst) < 0) _exit(12);
    if (peer_dev({root + "/c", "dev/pts/ptmx"}) != inst.st_dev) _exit(13);
    // A symlinked /dev/pts in the container: refused, the agent's own ptmx is used.
    dev_t evil = peer_dev({root + "/evil", "dev/pts/ptmx"});
    if (evil == 0 || evil == inst.st_dev) _exit(14);
    // A regular file named ptmx is not a pty master: the agent's own again.
    dev_t file = peer_dev({root + "/file", "dev/pts/ptmx"});
    if (file == 0 || file == inst.st_dev) _exit(15);
    umount2(pts.c_str(), MNT_DETACH);
    _exit(0);
  }
  int ws = 0;
  ASSERT_EQ(waitpid(pid, &ws, 0), pid);
  ASSERT_TRUE(WIFEXITED(ws));
  EXPECT_EQ(WEXITSTATUS(ws), 0) << "10/11/12: set-up failed; 13: not the container's devpts; "
                                   "14: followed a symlink; 15: opened a regular file";
}

}  // namespace
}  // namespace runvm::agent
