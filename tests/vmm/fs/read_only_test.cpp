// `:ro` shares: every write-type request is EROFS, reads still work.
#include <fcntl.h>

#include <cerrno>

#include "tests/vmm/fs/fs_fixture.h"
#include "vmm/devices/virtio/fs/read_only_fs.h"

namespace runvm::vmm::virtio::fs::testing {
namespace {

class ReadOnly : public FsTest {
 protected:
  std::shared_ptr<FileSystem> wrap(std::shared_ptr<FileSystem> fs) override {
    return std::make_shared<ReadOnlyFs>(std::move(fs));
  }
};

TEST_F(ReadOnly, ReadsWork) {
  write_file(in_share("r"), "readable");
  uint64_t node = c().node_of(FUSE_ROOT_ID, "r");
  ASSERT_NE(node, 0u);
  Reply o = c().open(node, O_RDONLY);
  ASSERT_EQ(o.error(), 0);
  EXPECT_EQ(c().read_str(node, o.as<fuse_open_out>().fh, 0, 100), "readable");
  Reply s = c().call(FUSE_STATFS, FUSE_ROOT_ID, {});
  EXPECT_EQ(s.error(), 0);
  Bytes ac;
  put(&ac, fuse_access_in{R_OK, 0});
  EXPECT_EQ(c().call(FUSE_ACCESS, node, ac).error(), 0);
}

TEST_F(ReadOnly, EveryWriteIsEROFS) {
  write_file(in_share("r"), "readable");
  ASSERT_EQ(::mkdir(in_share("d").c_str(), 0755), 0);
  uint64_t node = c().node_of(FUSE_ROOT_ID, "r");
  uint64_t fh = c().open(node, O_RDONLY).as<fuse_open_out>().fh;

  EXPECT_EQ(c().open(node, O_WRONLY).error(), -EROFS);
  EXPECT_EQ(c().open(node, O_RDWR).error(), -EROFS);
  EXPECT_EQ(c().open(node, O_RDONLY | O_TRUNC).error(), -EROFS);
  EXPECT_EQ(c().create(FUSE_ROOT_ID, "new", O_RDWR).error(), -EROFS);
  EXPECT_EQ(c().mkdir(FUSE_ROOT_ID, "nd").error(), -EROFS);
  EXPECT_EQ(c().name_op(FUSE_UNLINK, FUSE_ROOT_ID, "r").error(), -EROFS);
  EXPECT_EQ(c().name_op(FUSE_RMDIR, FUSE_ROOT_ID, "d").error(), -EROFS);
  EXPECT_EQ(c().name_op(FUSE_REMOVEXATTR, node, "user.a").error(), -EROFS);
  EXPECT_EQ(c().write(node, fh, 0, "x").error(), -EROFS);

  Bytes sym;
  put_str(&sym, "l");
  put_str(&sym, "r");
  EXPECT_EQ(c().call(FUSE_SYMLINK, FUSE_ROOT_ID, sym).error(), -EROFS);
  Bytes mk;
  put(&mk, fuse_mknod_in{S_IFIFO | 0644, 0, 0, 0});
  put_str(&mk, "p");
  EXPECT_EQ(c().call(FUSE_MKNOD, FUSE_ROOT_ID, mk).error(), -EROFS);
  Bytes ln;
  put(&ln, fuse_link_in{node});
  put_str(&ln, "h");
  EXPECT_EQ(c().call(FUSE_LINK, FUSE_ROOT_ID, ln).error(), -EROFS);
  for (uint32_t op : {FUSE_RENAME, FUSE_RENAME2}) {
    Bytes rn;
    if (op == FUSE_RENAME)
      put(&rn, fuse_rename_in{FUSE_ROOT_ID});
    else
      put(&rn, fuse_rename2_in{FUSE_ROOT_ID, 0, 0});
    put_str(&rn, "r");
    put_str(&rn, "s");
    EXPECT_EQ(c().call(op, FUSE_ROOT_ID, rn).error(), -EROFS);
  }
  fuse_setattr_in sa{};
  sa.valid = FATTR_MODE;
  sa.mode = 0777;
  Bytes sb;
  put(&sb, sa);
  EXPECT_EQ(c().call(FUSE_SETATTR, node, sb).error(), -EROFS);
  Bytes xb;
  uint32_t xin[2] = {1, 0};
  xb.insert(xb.end(), reinterpret_cast<uint8_t*>(xin), reinterpret_cast<uint8_t*>(xin) + 8);
  put_str(&xb, "user.a");
  xb.push_back('v');
  EXPECT_EQ(c().call(FUSE_SETXATTR, node, xb).error(), -EROFS);
  fuse_fallocate_in fa{};
  fa.fh = fh;
  fa.length = 10;
  Bytes fb;
  put(&fb, fa);
  EXPECT_EQ(c().call(FUSE_FALLOCATE, node, fb).error(), -EROFS);
  fuse_copy_file_range_in cp{};
  cp.fh_in = fh;
  cp.fh_out = fh;
  cp.nodeid_out = node;
  cp.len = 1;
  Bytes cb;
  put(&cb, cp);
  EXPECT_EQ(c().call(FUSE_COPY_FILE_RANGE, node, cb).error(), -EROFS);
  Bytes ac;
  put(&ac, fuse_access_in{W_OK, 0});
  EXPECT_EQ(c().call(FUSE_ACCESS, node, ac).error(), -EROFS);

  // Nothing changed on the host.
  EXPECT_EQ(read_file(in_share("r")), "readable");
  EXPECT_NE(::access(in_share("new").c_str(), F_OK), 0);
  EXPECT_EQ(::access(in_share("d").c_str(), F_OK), 0);
}

}  // namespace
}  // namespace runvm::vmm::virtio::fs::testing
