// FORGET really frees inodes: memory stays bounded under a create/delete storm.
#include <fcntl.h>

#include <atomic>
#include <cerrno>
#include <thread>
#include <vector>

#include "tests/vmm/fs/fs_fixture.h"
#include "vmm/devices/virtio/fs/inode_table.h"

namespace runvm::vmm::virtio::fs::testing {
namespace {

using Lifetime = FsTest;

TEST_F(Lifetime, CreateDeleteStormReturnsToBaseline) {
  const size_t inodes = fs_->inode_count();
  const size_t handles = fs_->handle_count();
  EXPECT_EQ(inodes, 1u);  // just the root
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 300; ++i) {
      std::string name = "f" + std::to_string(i);
      Reply r = c().create(FUSE_ROOT_ID, name, O_RDWR);
      ASSERT_EQ(r.error(), 0);
      uint64_t node = r.as<fuse_entry_out>().nodeid;
      uint64_t fh = r.as<fuse_open_out>(sizeof(fuse_entry_out)).fh;
      ASSERT_EQ(c().node_of(FUSE_ROOT_ID, name), node);  // second lookup
      ASSERT_EQ(c().release(node, fh).error(), 0);
      ASSERT_EQ(c().name_op(FUSE_UNLINK, FUSE_ROOT_ID, name).error(), 0);
      c().forget(node, 2);
    }
    EXPECT_EQ(fs_->inode_count(), inodes);
    EXPECT_EQ(fs_->handle_count(), handles);
  }
}

// Issue 10: open directories are bounded apart from file handles (each may pin
// a read-ahead buffer); a released one makes room again.
class FewDirHandles : public FsTest {
  PassthroughOptions options() const override {
    PassthroughOptions o;
    o.max_dir_handles = 3;
    return o;
  }
};

TEST_F(FewDirHandles, OpendirBeyondTheBoundIsENFILE) {
  std::vector<uint64_t> fhs;
  for (int i = 0; i < 3; ++i) {
    Reply r = c().opendir(FUSE_ROOT_ID);
    ASSERT_EQ(r.error(), 0) << i;
    fhs.push_back(r.as<fuse_open_out>().fh);
  }
  EXPECT_EQ(c().opendir(FUSE_ROOT_ID).error(), -ENFILE);
  Reply f = c().create(FUSE_ROOT_ID, "file", O_RDWR);
  EXPECT_EQ(f.error(), 0) << "file handles are not directory handles";
  ASSERT_EQ(c().release(FUSE_ROOT_ID, fhs.back(), true).error(), 0);
  EXPECT_EQ(c().opendir(FUSE_ROOT_ID).error(), 0);
  EXPECT_EQ(c().opendir(FUSE_ROOT_ID).error(), -ENFILE);
}

TEST_F(Lifetime, ForgetCountsAndRootIsPermanent) {
  write_file(in_share("a"), "");
  uint64_t a = c().node_of(FUSE_ROOT_ID, "a");
  ASSERT_EQ(c().node_of(FUSE_ROOT_ID, "a"), a);
  ASSERT_EQ(c().node_of(FUSE_ROOT_ID, "a"), a);
  c().forget(a, 2);
  EXPECT_EQ(c().getattr(a).error(), 0);  // one lookup left
  c().forget(a, 1000);                   // more than held: clamps, frees
  EXPECT_EQ(c().getattr(a).error(), -ENOENT);
  c().forget(FUSE_ROOT_ID, 1000);
  EXPECT_EQ(c().getattr(FUSE_ROOT_ID).error(), 0);
  // A new lookup gets a fresh id, never the stale one.
  EXPECT_NE(c().node_of(FUSE_ROOT_ID, "a"), a);
}

TEST_F(Lifetime, DestroyDropsEverything) {
  write_file(in_share("a"), "");
  uint64_t a = c().node_of(FUSE_ROOT_ID, "a");
  ASSERT_EQ(c().open(a, O_RDONLY).error(), 0);
  EXPECT_EQ(fs_->handle_count(), 1u);
  EXPECT_EQ(c().call(FUSE_DESTROY, 0, {}).error(), 0);
  EXPECT_EQ(fs_->inode_count(), 1u);
  EXPECT_EQ(fs_->handle_count(), 0u);
}

TEST_F(Lifetime, ConcurrentClientsShareOneFilesystem) {
  write_file(in_share("shared"), "s");
  const size_t inodes = fs_->inode_count();
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      FuseClient cl(fs_);
      if (cl.init().error() != 0) ++failures;
      for (int i = 0; i < 100; ++i) {
        std::string name = "t" + std::to_string(t) + "-" + std::to_string(i);
        Reply r = cl.create(FUSE_ROOT_ID, name, O_RDWR);
        if (r.error() != 0) {
          ++failures;
          continue;
        }
        uint64_t node = r.as<fuse_entry_out>().nodeid;
        uint64_t fh = r.as<fuse_open_out>(sizeof(fuse_entry_out)).fh;
        if (cl.write(node, fh, 0, name).error() != 0) ++failures;
        if (cl.read_str(node, fh, 0, 100) != name) ++failures;
        uint64_t sh = cl.node_of(FUSE_ROOT_ID, "shared");
        if (sh == 0) ++failures;
        cl.release(node, fh);
        cl.name_op(FUSE_UNLINK, FUSE_ROOT_ID, name);
        cl.forget(node, 1);
        cl.forget(sh, 1);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(fs_->inode_count(), inodes);
  EXPECT_EQ(fs_->handle_count(), 0u);
}

TEST(InodeTable, CapIsEnforced) {
  InodeTable t(2);  // root + one
  struct stat st {};
  st.st_mode = S_IFDIR;
  st.st_ino = 1;
  t.set_root(::open("/", O_PATH | O_CLOEXEC), st);
  st.st_ino = 2;
  uint64_t n = t.insert_or_ref(::open("/", O_PATH | O_CLOEXEC), st);
  EXPECT_GT(n, 1u);
  st.st_ino = 3;
  EXPECT_EQ(t.insert_or_ref(::open("/", O_PATH | O_CLOEXEC), st), 0u);
  st.st_ino = 2;
  EXPECT_EQ(t.insert_or_ref(::open("/", O_PATH | O_CLOEXEC), st), n);  // known: just a ref
  EXPECT_EQ(t.size(), 2u);
}

}  // namespace
}  // namespace runvm::vmm::virtio::fs::testing
