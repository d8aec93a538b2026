// The guest must not reach anything outside the share.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <cerrno>
#include <cstdio>

#include "tests/vmm/fs/fs_fixture.h"

namespace runvm::vmm::virtio::fs::testing {
namespace {

using Containment = FsTest;

TEST_F(Containment, DotDotAtTheRootIsTheRoot) {
  Reply r = c().lookup(FUSE_ROOT_ID, "..");
  ASSERT_EQ(r.error(), 0);
  EXPECT_EQ(r.as<fuse_entry_out>().nodeid, static_cast<uint64_t>(FUSE_ROOT_ID));
  EXPECT_EQ(c().node_of(FUSE_ROOT_ID, "."), static_cast<uint64_t>(FUSE_ROOT_ID));
  // Climbing from a subdirectory stops at the root too.
  uint64_t sub = c().mkdir(FUSE_ROOT_ID, "sub").as<fuse_entry_out>().nodeid;
  uint64_t up = c().node_of(sub, "..");
  EXPECT_EQ(up, static_cast<uint64_t>(FUSE_ROOT_ID));
  EXPECT_EQ(c().node_of(c().node_of(up, ".."), ".."), static_cast<uint64_t>(FUSE_ROOT_ID));
  EXPECT_TRUE(FuseClient::missing(c().lookup(FUSE_ROOT_ID, "outside")));
  EXPECT_EQ(c().lookup(FUSE_ROOT_ID, "../outside").error(), -EINVAL);
}

TEST_F(Containment, SymlinksAreNeverFollowedOnTheHost) {
  struct stat before {};
  ASSERT_EQ(::stat((outside_ + "/secret").c_str(), &before), 0);
  ASSERT_EQ(::symlink("/etc/passwd", in_share("abs").c_str()), 0);
  ASSERT_EQ(::symlink("../outside/secret", in_share("rel").c_str()), 0);
  ASSERT_EQ(::symlink(outside_.c_str(), in_share("dirlink").c_str()), 0);
  for (const char* name : {"abs", "rel"}) {
    Reply r = c().lookup(FUSE_ROOT_ID, name);
    ASSERT_EQ(r.error(), 0) << name;
    auto e = r.as<fuse_entry_out>();
    EXPECT_TRUE(S_ISLNK(e.attr.mode)) << name;
    EXPECT_EQ(c().open(e.nodeid, O_RDONLY).error(), -ELOOP) << name;
    EXPECT_EQ(c().open(e.nodeid, O_RDWR | O_TRUNC).error(), -ELOOP) << name;
    Reply rl = c().call(FUSE_READLINK, e.nodeid, {});
    EXPECT_EQ(rl.error(), 0);
    EXPECT_EQ(std::string(rl.body.begin(), rl.body.end()),
              std::string(name) == "abs" ? "/etc/passwd" : "../outside/secret");
    // Attribute changes through a symlink node never reach the target.
    fuse_setattr_in sa{};
    sa.valid = FATTR_MODE | FATTR_SIZE;
    sa.mode = 0777;
    Bytes b;
    put(&b, sa);
    EXPECT_LT(c().call(FUSE_SETATTR, e.nodeid, b).error(), 0);
    Bytes xb;
    put(&xb, fuse_getxattr_in{100, 0});
    put_str(&xb, "user.x");
    EXPECT_LT(c().call(FUSE_GETXATTR, e.nodeid, xb).error(), 0);
  }
  // A symlinked directory cannot be walked through or listed.
  uint64_t dl = c().node_of(FUSE_ROOT_ID, "dirlink");
  ASSERT_NE(dl, 0u);
  EXPECT_EQ(c().lookup(dl, "secret").error(), -ENOTDIR);
  EXPECT_EQ(c().opendir(dl).error(), -ENOTDIR);
  EXPECT_EQ(c().create(dl, "new", O_RDWR).error(), -ENOTDIR);
  // CREATE over an existing symlink does not write through it.
  EXPECT_LT(c().create(FUSE_ROOT_ID, "rel", O_RDWR | O_TRUNC).error(), 0);
  EXPECT_EQ(read_file(outside_ + "/secret"), "top secret");
  struct stat st {};
  ASSERT_EQ(::stat((outside_ + "/secret").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode, before.st_mode);
  EXPECT_EQ(st.st_size, before.st_size);
}

TEST_F(Containment, DirectorySwappedForSymlinkAfterLookupDoesNotEscape) {
  ASSERT_EQ(::mkdir(in_share("d").c_str(), 0755), 0);
  write_file(in_share("d/inner"), "inside");
  uint64_t d = c().node_of(FUSE_ROOT_ID, "d");
  ASSERT_NE(d, 0u);
  // The race: between the guest's LOOKUP and its next request, "d" becomes a
  // symlink to a directory outside the share.
  ASSERT_EQ(::rename(in_share("d").c_str(), in_share("d-old").c_str()), 0);
  ASSERT_EQ(::symlink(outside_.c_str(), in_share("d").c_str()), 0);

  EXPECT_TRUE(FuseClient::missing(c().lookup(d, "secret")));
  EXPECT_NE(c().node_of(d, "inner"), 0u);  // still the original directory
  EXPECT_EQ(c().create(d, "planted", O_RDWR).error(), 0);
  EXPECT_NE(::access((outside_ + "/planted").c_str(), F_OK), 0);
  EXPECT_EQ(::access(in_share("d-old/planted").c_str(), F_OK), 0);
  Reply od = c().opendir(d);
  ASSERT_EQ(od.error(), 0);
  fuse_read_in rd{};
  rd.fh = od.as<fuse_open_out>().fh;
  rd.size = 4096;
  Bytes b;
  put(&b, rd);
  Reply r = c().call(FUSE_READDIR, d, b);
  ASSERT_EQ(r.error(), 0);
  std::string listing(r.body.begin(), r.body.end());
  EXPECT_NE(listing.find("inner"), std::string::npos);
  EXPECT_EQ(listing.find("secret"), std::string::npos);
  // Fresh lookups of the name see the symlink, not the outside directory.
  Reply fresh = c().lookup(FUSE_ROOT_ID, "d");
  ASSERT_EQ(fresh.error(), 0);
  EXPECT_TRUE(S_ISLNK(fresh.as<fuse_entry_out>().attr.mode));
}

TEST_F(Containment, ForgedNodeIdsAndHandlesFindNothing) {
  for (uint64_t node : {0ull, 2ull, 12345ull, ~0ull}) {
    EXPECT_EQ(c().getattr(node).error(), -ENOENT) << node;
    EXPECT_TRUE(FuseClient::missing(c().lookup(node, "x"))) << node;
    EXPECT_EQ(c().open(node, O_RDONLY).error(), -ENOENT) << node;
    EXPECT_EQ(c().mkdir(node, "x").error(), -ENOENT) << node;
  }
  Reply cr = c().create(FUSE_ROOT_ID, "f", O_RDWR);
  ASSERT_EQ(cr.error(), 0);
  uint64_t node = cr.as<fuse_entry_out>().nodeid;
  uint64_t fh = cr.as<fuse_open_out>(sizeof(fuse_entry_out)).fh;
  EXPECT_EQ(c().read(node, fh + 1000, 0, 10).error(), -EBADF);
  EXPECT_EQ(c().write(node, 0, 0, "x").error(), -EBADF);
  // A directory handle is not a file handle and vice versa.
  uint64_t dfh = c().opendir(FUSE_ROOT_ID).as<fuse_open_out>().fh;
  EXPECT_EQ(c().read(node, dfh, 0, 10).error(), -EBADF);
  EXPECT_EQ(c().release(node, dfh).error(), -EBADF);
  fuse_read_in rd{};
  rd.fh = fh;
  rd.size = 100;
  Bytes b;
  put(&b, rd);
  EXPECT_EQ(c().call(FUSE_READDIR, FUSE_ROOT_ID, b).error(), -EBADF);
  // A forgotten node is gone for good.
  c().forget(node, 1);
  EXPECT_EQ(c().getattr(node).error(), -ENOENT);
}

TEST_F(Containment, DeviceNodesAndFifosAreNeverOpenedOnTheHost) {
  fuse_mknod_in mk{};
  mk.mode = S_IFIFO | 0666;
  Bytes m;
  put(&m, mk);
  put_str(&m, "fifo");
  Reply f = c().call(FUSE_MKNOD, FUSE_ROOT_ID, m);
  ASSERT_EQ(f.error(), 0);
  // Opening a FIFO would block the server thread; it is refused instead.
  EXPECT_EQ(c().open(f.as<fuse_entry_out>().nodeid, O_RDONLY).error(), -EACCES);
  EXPECT_EQ(c().create(FUSE_ROOT_ID, "fifo", O_WRONLY).error(), -EACCES);

  // The guest cannot make device nodes (share_policy_test); one the host put
  // in the share is served but never opened.
  if (::geteuid() != 0) GTEST_SKIP() << "mknod of devices needs root";
  if (::mknod(in_share("null").c_str(), S_IFCHR | 0666, makedev(1, 3)) < 0)
    GTEST_SKIP() << "mknod not permitted here";
  Reply dev = c().lookup(FUSE_ROOT_ID, "null");
  ASSERT_EQ(dev.error(), 0);
  EXPECT_TRUE(S_ISCHR(dev.as<fuse_entry_out>().attr.mode));
  EXPECT_EQ(dev.as<fuse_entry_out>().attr.rdev, (1u << 8) | 3u);
  uint64_t node = dev.as<fuse_entry_out>().nodeid;
  EXPECT_EQ(c().open(node, O_RDWR).error(), -EACCES);
  EXPECT_EQ(c().create(FUSE_ROOT_ID, "null", O_RDWR).error(), -EACCES);
  fuse_setattr_in sa{};
  sa.valid = FATTR_SIZE;
  Bytes b;
  put(&b, sa);
  EXPECT_EQ(c().call(FUSE_SETATTR, node, b).error(), -EINVAL);
}

TEST_F(Containment, LinkingASymlinkLinksTheSymlinkNotItsTarget) {
  ASSERT_EQ(::symlink((outside_ + "/secret").c_str(), in_share("s").c_str()), 0);
  struct stat before {};
  ASSERT_EQ(::stat((outside_ + "/secret").c_str(), &before), 0);
  uint64_t s = c().node_of(FUSE_ROOT_ID, "s");
  ASSERT_NE(s, 0u);
  Bytes b;
  put(&b, fuse_link_in{s});
  put_str(&b, "s2");
  Reply r = c().call(FUSE_LINK, FUSE_ROOT_ID, b);
  ASSERT_EQ(r.error(), 0);
  EXPECT_TRUE(S_ISLNK(r.as<fuse_entry_out>().attr.mode));
  struct stat st {};
  ASSERT_EQ(::lstat(in_share("s2").c_str(), &st), 0);
  EXPECT_TRUE(S_ISLNK(st.st_mode));
  ASSERT_EQ(::stat((outside_ + "/secret").c_str(), &st), 0);
  EXPECT_EQ(st.st_nlink, before.st_nlink);
  Bytes forged;
  put(&forged, fuse_link_in{987654});
  put_str(&forged, "s3");
  EXPECT_EQ(c().call(FUSE_LINK, FUSE_ROOT_ID, forged).error(), -ENOENT);
}

TEST_F(Containment, HostPlacedHardLinkIsInsideByDefinition) {
  // The host linked an outside file into the share: it is the share's file now.
  if (::link((outside_ + "/secret").c_str(), in_share("hl").c_str()) != 0)
    GTEST_SKIP() << "hard links not possible here";
  uint64_t node = c().node_of(FUSE_ROOT_ID, "hl");
  Reply o = c().open(node, O_RDONLY);
  ASSERT_EQ(o.error(), 0);
  EXPECT_EQ(c().read_str(node, o.as<fuse_open_out>().fh, 0, 100), "top secret");
}

}  // namespace
}  // namespace runvm::vmm::virtio::fs::testing
