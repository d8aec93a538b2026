// EventLoop: handlers run on the thread that drives the loop, one iteration at a
// time with run_once() (what tests and fuzzers use), and until stop() with run().
#include "vmm/event/event_loop.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include <gtest/gtest.h>

#include "base/unique_fd.h"

namespace runvm::vmm {
namespace {

void signal(int fd) {
  uint64_t one = 1;
  ASSERT_EQ(::write(fd, &one, sizeof one), static_cast<ssize_t>(sizeof one));
}

TEST(EventLoop, RunOnceRunsWhatIsReadyAndNoMore) {
  EventLoop loop;
  ASSERT_TRUE(loop.ok());
  UniqueFd a(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)), b(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  int ran_a = 0, ran_b = 0;
  ASSERT_TRUE(loop.add(a.get(), EPOLLIN, [&](uint32_t) {
    uint64_t v;
    ASSERT_EQ(::read(a.get(), &v, sizeof v), static_cast<ssize_t>(sizeof v));
    ++ran_a;
  }));
  ASSERT_TRUE(loop.add(b.get(), EPOLLIN, [&](uint32_t) { ++ran_b; }));
  EXPECT_EQ(loop.run_once(0), 0);  // nothing ready: returns at once
  signal(a.get());
  EXPECT_EQ(loop.run_once(0), 1);
  EXPECT_EQ(ran_a, 1);
  EXPECT_EQ(ran_b, 0);
  EXPECT_EQ(loop.run_once(0), 0);  // a's handler drained it
  // A removed fd's handler no longer runs.
  signal(b.get());
  EXPECT_TRUE(loop.remove(b.get()));
  EXPECT_EQ(loop.run_once(0), 0);
  EXPECT_EQ(ran_b, 0);
}

TEST(EventLoop, StopEndsRunFromAnotherThread) {
  EventLoop loop;
  ASSERT_TRUE(loop.ok());
  UniqueFd a(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  std::atomic<int> ran{0};
  ASSERT_TRUE(loop.add(a.get(), EPOLLIN, [&](uint32_t) {
    uint64_t v;
    [[maybe_unused]] auto r = ::read(a.get(), &v, sizeof v);
    ++ran;
    loop.stop();
  }));
  std::thread t([&] { EXPECT_TRUE(loop.run()); });
  signal(a.get());
  t.join();
  EXPECT_EQ(ran.load(), 1);
  EXPECT_TRUE(loop.stopped());
  // stop() from outside a handler ends a run() that waits forever.
  EventLoop idle;
  std::thread w([&] { EXPECT_TRUE(idle.run()); });
  idle.stop();
  w.join();
}

}  // namespace
}  // namespace runvm::vmm
