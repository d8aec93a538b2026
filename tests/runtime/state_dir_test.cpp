#include "runtime/state_dir.h"

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <filesystem>

#include <gtest/gtest.h>

#include "runtime/process_liveness.h"
#include "tests/runtime/test_support.h"

namespace runvm::runtime {
namespace {

using testing::exists;
using testing::TempDir;

oci::State new_state(const std::string& id) {
  oci::State s;
  s.ociVersion = oci::kSpecVersion;
  s.id = id;
  s.status = oci::ContainerStatus::kCreating;
  s.bundle = "/bundle";
  s.runvm.created = "2026-01-01T00:00:00Z";
  return s;
}

// Waits for a forked child and returns its exit status (-1 if it did not exit).
int wait_child(pid_t pid) {
  int status = 0;
  if (::waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) return -1;
  return WEXITSTATUS(status);
}

TEST(StateDir, CreateWritesStateAndHoldsTheLock) {
  TempDir tmp;
  StateDir dir(tmp / "root");
  auto lock = dir.create(new_state("c1"));
  ASSERT_TRUE(lock) << lock.error().message;
  EXPECT_TRUE(exists(dir.state_path("c1")));
  EXPECT_FALSE(FileLock::try_acquire(dir.lock_path("c1")));
  struct stat st {};
  ASSERT_EQ(::stat(dir.root().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);

  auto state = dir.load("c1");
  ASSERT_TRUE(state) << state.error().message;
  // The creator (this process) is alive, so it is still being created.
  EXPECT_EQ(state->status, oci::ContainerStatus::kCreating);
  EXPECT_EQ(state->bundle, "/bundle");
}

TEST(StateDir, CreateOfExistingIdFails) {
  TempDir tmp;
  StateDir dir(tmp.path());
  ASSERT_TRUE(dir.create(new_state("c1")));
  auto again = dir.create(new_state("c1"));
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().err, EEXIST);
  EXPECT_EQ(again.error().message, kExistsMessage);
}

TEST(StateDir, CreateRejectsInvalidIdWithoutTouchingRoot) {
  TempDir tmp;
  StateDir dir(tmp / "root");
  auto bad = dir.create(new_state("../escape"));
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().err, EINVAL);
  EXPECT_FALSE(exists(tmp / "escape"));
  EXPECT_FALSE(exists(tmp / "root"));
}

TEST(StateDir, CreateReclaimsDirectoryWithoutState) {
  TempDir tmp;
  StateDir dir(tmp.path());
  std::filesystem::create_directories(dir.container_dir("c1"));
  auto lock = dir.create(new_state("c1"));
  EXPECT_TRUE(lock) << lock.error().message;
}

TEST(StateDir, LoadOfUnknownIdIsNotExist) {
  TempDir tmp;
  StateDir dir(tmp.path());
  auto s = dir.load("nope");
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().err, ENOENT);
  EXPECT_EQ(s.error().message, kNotExistMessage);
  auto l = dir.lock("nope");
  ASSERT_FALSE(l);
  EXPECT_EQ(l.error().err, ENOENT);
  EXPECT_FALSE(exists(dir.container_dir("nope")));
}

TEST(StateDir, StatusFollowsTheRecordedProcess) {
  TempDir tmp;
  StateDir dir(tmp.path());
  auto lock = dir.create(new_state("c1"));
  ASSERT_TRUE(lock);
  oci::State s = new_state("c1");
  s.status = oci::ContainerStatus::kRunning;

  // Alive with the recorded start time: running.
  s.pid = ::getpid();
  s.runvm.pid_start_time = *process_start_time(::getpid());
  ASSERT_TRUE(dir.save(s));
  EXPECT_EQ(dir.load("c1")->status, oci::ContainerStatus::kRunning);
  EXPECT_EQ(dir.load("c1")->pid, ::getpid());

  // Same pid, other start time: the pid was reused, the container is gone.
  s.runvm.pid_start_time += 1;
  ASSERT_TRUE(dir.save(s));
  EXPECT_EQ(dir.load("c1")->status, oci::ContainerStatus::kStopped);

  // Process gone: stopped, pid reported as 0.
  s.pid = testing::dead_pid();
  s.runvm.pid_start_time = 0;
  ASSERT_TRUE(dir.save(s));
  auto loaded = dir.load("c1");
  EXPECT_EQ(loaded->status, oci::ContainerStatus::kStopped);
  EXPECT_EQ(loaded->pid, 0);
}

TEST(StateDir, CreatingContainerOfDeadCreatorIsStopped) {
  TempDir tmp;
  StateDir dir(tmp.path());
  pid_t child = ::fork();
  if (child == 0) ::_exit(dir.create(new_state("c1")) ? 0 : 1);
  ASSERT_EQ(wait_child(child), 0);
  auto s = dir.load("c1");
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->status, oci::ContainerStatus::kStopped);
}

TEST(StateDir, ListIsSortedAndSkipsNonContainers) {
  TempDir tmp;
  StateDir dir(tmp.path());
  EXPECT_TRUE(StateDir(tmp / "missing").list()->empty());
  ASSERT_TRUE(dir.create(new_state("b")));
  ASSERT_TRUE(dir.create(new_state("a")));
  std::filesystem::create_directories(tmp / "no state");
  std::filesystem::create_directories(tmp / "halfmade");
  auto ids = dir.list();
  ASSERT_TRUE(ids);
  EXPECT_EQ(*ids, (std::vector<std::string>{"a", "b"}));
}

TEST(StateDir, RemoveDeletesTheDirectory) {
  TempDir tmp;
  StateDir dir(tmp.path());
  ASSERT_TRUE(dir.create(new_state("c1")));
  ASSERT_TRUE(dir.remove("c1"));
  EXPECT_FALSE(exists(dir.container_dir("c1")));
  EXPECT_FALSE(dir.load("c1"));
}

TEST(StateDir, LockWaitsForAnotherProcess) {
  TempDir tmp;
  StateDir dir(tmp.path());
  ASSERT_TRUE(dir.create(new_state("c1")));  // lock released at once
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  pid_t child = ::fork();
  if (child == 0) {
    auto l = dir.lock("c1");
    char c = l ? 'y' : 'n';
    (void)!::write(ready[1], &c, 1);
    ::usleep(300 * 1000);
    ::_exit(0);
  }
  char c = 0;
  ASSERT_EQ(::read(ready[0], &c, 1), 1);
  ASSERT_EQ(c, 'y');
  auto start = std::chrono::steady_clock::now();
  auto l = dir.lock("c1");
  auto waited = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(l) << l.error().message;
  EXPECT_GE(waited, std::chrono::milliseconds(150));
  EXPECT_EQ(wait_child(child), 0);
  ::close(ready[0]);
  ::close(ready[1]);
}

TEST(StateDir, LockOfContainerDeletedWhileWaitingIsNotExist) {
  TempDir tmp;
  StateDir dir(tmp.path());
  ASSERT_TRUE(dir.create(new_state("c1")));
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  pid_t child = ::fork();
  if (child == 0) {
    auto l = dir.lock("c1");
    char c = l ? 'y' : 'n';
    (void)!::write(ready[1], &c, 1);
    ::usleep(200 * 1000);
    ::_exit(dir.remove("c1") ? 0 : 1);
  }
  char c = 0;
  ASSERT_EQ(::read(ready[0], &c, 1), 1);
  ASSERT_EQ(c, 'y');
  auto l = dir.lock("c1");
  ASSERT_FALSE(l);
  EXPECT_EQ(l.error().err, ENOENT);
  EXPECT_EQ(wait_child(child), 0);
  ::close(ready[0]);
  ::close(ready[1]);
}

// Concurrent `create` of one id from several processes: exactly one wins, the
// others see "already exists", and one state directory remains.
TEST(StateDir, ConcurrentCreateOfOneIdLeavesExactlyOne) {
  TempDir tmp;
  const std::string root = tmp / "root";
  constexpr int kProcs = 8;
  int go[2];
  ASSERT_EQ(::pipe(go), 0);
  std::vector<pid_t> children;
  for (int i = 0; i < kProcs; ++i) {
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::close(go[1]);
      char c;
      // All children block here until the parent closes the pipe: a common start.
      (void)!::read(go[0], &c, 1);
      auto r = StateDir(root).create(new_state("same"));
      if (r) ::_exit(0);
      ::_exit(r.error().err == EEXIST ? 1 : 2);
    }
    children.push_back(pid);
  }
  ::close(go[0]);
  ::close(go[1]);
  int won = 0, lost = 0;
  for (pid_t pid : children) {
    int status = wait_child(pid);
    if (status == 0) ++won;
    if (status == 1) ++lost;
  }
  EXPECT_EQ(won, 1);
  EXPECT_EQ(lost, kProcs - 1);
  auto ids = StateDir(root).list();
  ASSERT_TRUE(ids);
  EXPECT_EQ(*ids, std::vector<std::string>{"same"});
  int entries = 0;
  for (const auto& e : std::filesystem::directory_iterator(root)) {
    if (e.is_directory()) ++entries;
  }
  EXPECT_EQ(entries, 1);
}

}  // namespace
}  // namespace runvm::runtime
