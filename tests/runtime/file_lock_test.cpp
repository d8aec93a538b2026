#include "runtime/file_lock.h"

#include <unistd.h>

#include <cerrno>

#include <gtest/gtest.h>

#include "tests/runtime/test_support.h"

namespace runvm::runtime {
namespace {

using testing::TempDir;

TEST(FileLock, SecondHolderIsRefusedUntilRelease) {
  TempDir dir;
  auto a = FileLock::acquire(dir / "l");
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_TRUE(a->held());
  // flock conflicts between open file descriptions even within one process.
  auto b = FileLock::try_acquire(dir / "l");
  ASSERT_FALSE(b);
  EXPECT_EQ(b.error().err, EWOULDBLOCK);
  a->release();
  EXPECT_FALSE(a->held());
  auto c = FileLock::try_acquire(dir / "l");
  EXPECT_TRUE(c) << c.error().message;
}

TEST(FileLock, MoveTransfersOwnership) {
  TempDir dir;
  auto a = FileLock::acquire(dir / "l");
  ASSERT_TRUE(a);
  FileLock moved = std::move(*a);
  EXPECT_TRUE(moved.held());
  EXPECT_FALSE(a->held());  // NOLINT(bugprone-use-after-move): checking the moved-from state
  EXPECT_FALSE(FileLock::try_acquire(dir / "l"));
}

TEST(FileLock, StillLinkedDetectsUnlinkedFile) {
  TempDir dir;
  auto a = FileLock::acquire(dir / "l");
  ASSERT_TRUE(a);
  EXPECT_TRUE(a->still_linked());
  ASSERT_EQ(::unlink((dir / "l").c_str()), 0);
  EXPECT_FALSE(a->still_linked());
}

TEST(FileLock, MissingDirectoryIsAnErrorWithPath) {
  TempDir dir;
  auto a = FileLock::acquire(dir / "nope/l");
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().err, ENOENT);
  EXPECT_NE(a.error().message.find(dir / "nope/l"), std::string::npos);
}

}  // namespace
}  // namespace runvm::runtime
