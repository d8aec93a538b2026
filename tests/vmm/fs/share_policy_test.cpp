// What a guest can leave in a host share (share_policy.h): device nodes,
// set-uid/set-gid files and security.* xattrs, per share kind, through the
// FUSE server as the guest would ask.
#include <gtest/gtest.h>
#include <linux/capability.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include <cerrno>
#include <string>

#include "tests/vmm/fs/fs_fixture.h"
#include "vmm/devices/virtio/fs/share_policy.h"

namespace runvm::vmm::virtio::fs::testing {
namespace {

TEST(SharePolicy, DeviceNodesButWhiteoutsAreRefused) {
  EXPECT_EQ(check_new_node(S_IFCHR, makedev(1, 3)), -EPERM);
  EXPECT_EQ(check_new_node(S_IFCHR, makedev(0, 1)), -EPERM);
  EXPECT_EQ(check_new_node(S_IFBLK, makedev(8, 0)), -EPERM);
  EXPECT_EQ(check_new_node(S_IFBLK, makedev(0, 0)), -EPERM);
  EXPECT_EQ(check_new_node(S_IFCHR, makedev(0, 0)), 0);
  for (mode_t t : {S_IFREG, S_IFIFO, S_IFSOCK}) EXPECT_EQ(check_new_node(t, 0), 0) << t;
}

TEST(SharePolicy, SetIdBitsOnlyOnContainerRootFiles) {
  EXPECT_EQ(allowed_mode(ShareContent::Volume, S_IFREG, 06755), 0755u);
  EXPECT_EQ(allowed_mode(ShareContent::Volume, S_IFIFO, 02644), 0644u);
  EXPECT_EQ(allowed_mode(ShareContent::Volume, S_IFDIR, 02775), 02775u);
  EXPECT_EQ(allowed_mode(ShareContent::Volume, S_IFREG, 01777), 01777u);
  EXPECT_EQ(allowed_mode(ShareContent::ContainerRoot, S_IFREG, 06755), 06755u);
}

TEST(SharePolicy, Xattrs) {
  for (auto c : {ShareContent::Volume, ShareContent::ContainerRoot}) {
    EXPECT_EQ(check_xattr_write(c, "trusted.overlay.opaque"), -EPERM);
    EXPECT_EQ(check_xattr_write(c, "security.selinux"), -EOPNOTSUPP);
    EXPECT_EQ(check_xattr_write(c, "security.ima"), -EOPNOTSUPP);
    EXPECT_EQ(check_xattr_write(c, "user.x"), 0);
    EXPECT_EQ(check_xattr_write(c, "system.posix_acl_access"), 0);
  }
  EXPECT_EQ(check_xattr_write(ShareContent::Volume, "security.capability"), -EOPNOTSUPP);
  EXPECT_EQ(check_xattr_write(ShareContent::ContainerRoot, "security.capability"), 0);
}

// A file capability (v2): cap_net_raw permitted and effective, as `setcap
// cap_net_raw+ep` writes it.
std::string net_raw_capability() {
  vfs_cap_data d{};
  d.magic_etc = VFS_CAP_REVISION_2 | VFS_CAP_FLAGS_EFFECTIVE;
  d.data[0].permitted = 1u << CAP_NET_RAW;
  return std::string(reinterpret_cast<const char*>(&d), XATTR_CAPS_SZ_2);
}

class ShareTest : public FsTest {
 protected:
  Reply mknod(const std::string& name, uint32_t mode, uint32_t rdev) {
    fuse_mknod_in mk{};
    mk.mode = mode;
    mk.rdev = rdev;
    Bytes b;
    put(&b, mk);
    put_str(&b, name);
    return c().call(FUSE_MKNOD, FUSE_ROOT_ID, b);
  }
  int setxattr(uint64_t node, const std::string& name, const std::string& value) {
    Bytes b;
    fuse_setxattr_in in{};
    in.size = static_cast<uint32_t>(value.size());
    b.insert(b.end(), reinterpret_cast<uint8_t*>(&in), reinterpret_cast<uint8_t*>(&in) + 8);
    put_str(&b, name);
    b.insert(b.end(), value.begin(), value.end());
    return c().call(FUSE_SETXATTR, node, b).error();
  }
  int chmod(uint64_t node, uint32_t mode) {
    fuse_setattr_in sa{};
    sa.valid = FATTR_MODE;
    sa.mode = mode;
    Bytes b;
    put(&b, sa);
    return c().call(FUSE_SETATTR, node, b).error();
  }
  mode_t host_mode(const std::string& name) {
    struct stat st {};
    EXPECT_EQ(::lstat(in_share(name).c_str(), &st), 0) << name;
    return st.st_mode;
  }
  bool exists(const std::string& name) {
    struct stat st {};
    return ::lstat(in_share(name).c_str(), &st) == 0;
  }
};

using VolumeShare = ShareTest;

class RootfsShare : public ShareTest {
  PassthroughOptions options() const override {
    PassthroughOptions o;
    o.content = ShareContent::ContainerRoot;
    return o;
  }
};

TEST_F(VolumeShare, NoDeviceNodeReachesTheHost) {
  // 8:0 is the first SCSI disk on Linux: the node a guest would want.
  EXPECT_EQ(mknod("disk", S_IFBLK | 0666, 8 << 8).error(), -EPERM);
  EXPECT_EQ(mknod("null", S_IFCHR | 0666, (1 << 8) | 3).error(), -EPERM);
  EXPECT_FALSE(exists("disk"));
  EXPECT_FALSE(exists("null"));
  // An overlayfs whiteout (char 0:0) is no device; FIFOs stay allowed.
  ASSERT_EQ(mknod("wh", S_IFCHR, 0).error(), 0);
  EXPECT_TRUE(S_ISCHR(host_mode("wh")));
  ASSERT_EQ(mknod("fifo", S_IFIFO | 0600, 0).error(), 0);
  EXPECT_TRUE(S_ISFIFO(host_mode("fifo")));
}

TEST_F(VolumeShare, SetIdBitsAreStrippedFromFiles) {
  Reply f = c().create(FUSE_ROOT_ID, "prog", O_RDWR, 06755);
  ASSERT_EQ(f.error(), 0);
  EXPECT_EQ(host_mode("prog") & 07777, 0755u);
  uint64_t node = f.as<fuse_entry_out>().nodeid;
  ASSERT_EQ(chmod(node, 04711), 0);
  EXPECT_EQ(host_mode("prog") & 07777, 0711u);
  ASSERT_EQ(mknod("plain", S_IFREG | 02755, 0).error(), 0);
  EXPECT_EQ(host_mode("plain") & 07777, 0755u);
  // Set-gid on a directory only passes its group on; it stays.
  Reply d = c().mkdir(FUSE_ROOT_ID, "shared", 02775);
  ASSERT_EQ(d.error(), 0);
  EXPECT_EQ(host_mode("shared") & 07777, 02775u);
}

TEST_F(VolumeShare, SecurityXattrsAreRefused) {
  Reply f = c().create(FUSE_ROOT_ID, "f", O_RDWR, 0755);
  ASSERT_EQ(f.error(), 0);
  uint64_t node = f.as<fuse_entry_out>().nodeid;
  EXPECT_EQ(setxattr(node, "security.capability", net_raw_capability()), -EOPNOTSUPP);
  EXPECT_EQ(setxattr(node, "security.selinux", "system_u:object_r:shadow_t:s0"), -EOPNOTSUPP);
  EXPECT_EQ(setxattr(node, "trusted.overlay.opaque", "y"), -EPERM);
  EXPECT_LT(::lgetxattr(in_share("f").c_str(), "security.capability", nullptr, 0), 0);
  EXPECT_EQ(c().name_op(FUSE_REMOVEXATTR, node, "security.selinux").error(), -EOPNOTSUPP);
}

TEST_F(RootfsShare, KeepsSetIdBitsAndFileCapabilities) {
  if (::geteuid() != 0) GTEST_SKIP() << "set-uid root files and file capabilities need root";
  Reply f = c().create(FUSE_ROOT_ID, "su", O_RDWR, 04755);
  ASSERT_EQ(f.error(), 0);
  EXPECT_EQ(host_mode("su") & 07777, 04755u);
  Reply p = c().create(FUSE_ROOT_ID, "ping", O_RDWR, 0755);
  ASSERT_EQ(p.error(), 0);
  int rc = setxattr(p.as<fuse_entry_out>().nodeid, "security.capability", net_raw_capability());
  if (rc == -EPERM) GTEST_SKIP() << "no CAP_SETFCAP here";
  ASSERT_EQ(rc, 0);
  EXPECT_EQ(::lgetxattr(in_share("ping").c_str(), "security.capability", nullptr, 0),
            static_cast<ssize_t>(XATTR_CAPS_SZ_2));
  // Device nodes and other security.* names are refused in a rootfs too.
  EXPECT_EQ(mknod("sda", S_IFBLK | 0660, 8 << 8).error(), -EPERM);
  EXPECT_EQ(setxattr(p.as<fuse_entry_out>().nodeid, "security.selinux", "x"), -EOPNOTSUPP);
}

}  // namespace
}  // namespace runvm::vmm::virtio::fs::testing
