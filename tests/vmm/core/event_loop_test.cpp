// EventLoop: handlers run on the thread that drives the loop, one iteration at a
// time with run_once() (what tests and fuzzers use), and until stop() with run().
#include "vmm/event/event_loop.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <thread>
#include <vector>

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

TEST(EventLoop, CallRunsOnTheLoopThreadAndWaits) {
  EventLoop loop;
  ASSERT_TRUE(loop.ok());
  // Before use_loop_thread_for_calls(): inline on the caller.
  std::thread::id ran_on;
  EXPECT_TRUE(loop.call([&] { ran_on = std::this_thread::get_id(); }));
  EXPECT_EQ(ran_on, std::this_thread::get_id());

  loop.use_loop_thread_for_calls();
  std::thread::id loop_id;
  std::thread t([&] {
    loop_id = std::this_thread::get_id();
    loop.run();
  });
  // From several threads at once: each call has run when it returns.
  std::atomic<int> sum{0};
  std::vector<std::thread> callers;
  for (int i = 1; i <= 4; ++i) {
    callers.emplace_back([&, i] {
      for (int k = 0; k < 50; ++k) {
        int seen = -1;
        EXPECT_TRUE(loop.call([&] {
          seen = i;
          EXPECT_EQ(std::this_thread::get_id(), loop_id);
          // A call made on the loop thread itself runs inline (no deadlock).
          EXPECT_TRUE(loop.call([&] { sum += i; }));
        }));
        EXPECT_EQ(seen, i);
      }
    });
  }
  for (auto& c : callers) c.join();
  EXPECT_EQ(sum.load(), 50 * (1 + 2 + 3 + 4));
  loop.stop();
  t.join();
  // After run() ended: refused, not run and not waited for.
  bool ran = false;
  EXPECT_FALSE(loop.call([&] { ran = true; }));
  EXPECT_FALSE(ran);
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
