// remove_tree(): any depth with few fds, no symlink following, no crossing
// into another filesystem.
#include "base/remove_tree.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "tests/support/temp_dir.h"

namespace runvm {
namespace {

class RemoveTreeTest : public ::testing::Test {
 protected:
  // remove_tree before TempDir's own removal: a failed test can leave the
  // 3000-level tree, which std::filesystem::remove_all (one fd per level) cannot
  // remove under a 1024-fd limit.
  void TearDown() override { (void)remove_tree(top_); }
  bool exists(const std::string& p) {
    struct stat st {};
    return lstat(p.c_str(), &st) == 0;
  }
  runvm::testing::TempDir tmp_;
  const std::string top_ = tmp_.path();
};

TEST_F(RemoveTreeTest, DeepTreeUnderALowFdLimit) {
  // 3000 levels (deeper than PATH_MAX by path), built with openat one level at a time.
  const std::string tree = top_ + "/tree";
  ASSERT_EQ(mkdir(tree.c_str(), 0755), 0);
  int fd = open(tree.c_str(), O_RDONLY | O_DIRECTORY);
  ASSERT_GE(fd, 0);
  for (int i = 0; i < 3000; ++i) {
    ASSERT_EQ(mkdirat(fd, "d", 0755), 0);
    int f = openat(fd, "file", O_CREAT | O_WRONLY, 0644);
    ASSERT_GE(f, 0);
    close(f);
    int next = openat(fd, "d", O_RDONLY | O_DIRECTORY);
    ASSERT_GE(next, 0);
    close(fd);
    fd = next;
  }
  close(fd);
  // In a child: a soft limit of 32 fds, as a loaded runtime might have left.
  pid_t pid = fork();
  if (pid == 0) {
    struct rlimit rl {
      32, 32
    };
    setrlimit(RLIMIT_NOFILE, &rl);
    auto s = remove_tree(tree);
    if (!s) fprintf(stderr, "%s\n", s.error().what().c_str());
    _exit(s ? 0 : 1);
  }
  int st = 0;
  waitpid(pid, &st, 0);
  ASSERT_TRUE(WIFEXITED(st));
  EXPECT_EQ(WEXITSTATUS(st), 0);
  EXPECT_FALSE(exists(tree));
}

TEST_F(RemoveTreeTest, SymlinksAreRemovedNotFollowed) {
  const std::string outside = top_ + "/outside";
  ASSERT_EQ(mkdir(outside.c_str(), 0755), 0);
  std::ofstream(outside + "/keep") << "x";
  const std::string tree = top_ + "/tree";
  ASSERT_EQ(mkdir(tree.c_str(), 0755), 0);
  ASSERT_EQ(symlink(outside.c_str(), (tree + "/link").c_str()), 0);
  ASSERT_EQ(mkdir((tree + "/locked").c_str(), 0), 0);  // mode 000: root removes it anyway
  ASSERT_TRUE(remove_tree(tree));
  EXPECT_FALSE(exists(tree));
  EXPECT_TRUE(exists(outside + "/keep"));
  // A symlink given as the path itself is removed, its target kept.
  ASSERT_EQ(symlink(outside.c_str(), (top_ + "/top-link").c_str()), 0);
  ASSERT_TRUE(remove_tree(top_ + "/top-link"));
  EXPECT_FALSE(exists(top_ + "/top-link"));
  EXPECT_TRUE(exists(outside + "/keep"));
  EXPECT_TRUE(remove_tree(top_ + "/never-was"));
}

TEST_F(RemoveTreeTest, AMountpointInsideIsLeftAndNamed) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to mount";
  const std::string tree = top_ + "/tree";
  ASSERT_EQ(mkdir(tree.c_str(), 0755), 0);
  ASSERT_EQ(mkdir((tree + "/mnt").c_str(), 0755), 0);
  pid_t pid = fork();
  if (pid == 0) {
    // Own mount namespace: nothing leaks if the test fails half-way.
    if (unshare(CLONE_NEWNS) != 0 || mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr))
      _exit(2);
    if (mount("tmpfs", (tree + "/mnt").c_str(), "tmpfs", 0, nullptr) != 0) _exit(3);
    std::ofstream(tree + "/mnt/data") << "x";
    auto s = remove_tree(tree);
    bool named = !s && s.error().err == EXDEV &&
                 s.error().what().find(tree + "/mnt is a mountpoint") != std::string::npos;
    bool kept = access((tree + "/mnt/data").c_str(), F_OK) == 0;
    _exit(named && kept ? 0 : 1);
  }
  int st = 0;
  waitpid(pid, &st, 0);
  ASSERT_TRUE(WIFEXITED(st));
  EXPECT_EQ(WEXITSTATUS(st), 0);
}

}  // namespace
}  // namespace runvm
