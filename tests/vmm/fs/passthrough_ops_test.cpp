// File operations through the FUSE server against a real directory.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>

#include <cerrno>
#include <map>
#include <set>

#include "tests/vmm/fs/fs_fixture.h"

namespace runvm::vmm::virtio::fs::testing {
namespace {

using FsOps = FsTest;

struct Created {
  uint64_t node = 0;
  uint64_t fh = 0;
  fuse_attr attr{};
};

Created created(const Reply& r) {
  Created c;
  auto e = r.as<fuse_entry_out>();
  c.node = e.nodeid;
  c.attr = e.attr;
  c.fh = r.as<fuse_open_out>(sizeof(fuse_entry_out)).fh;
  return c;
}

TEST_F(FsOps, LookupAndGetattrSeeHostFiles) {
  write_file(in_share("hello"), "hello world");
  Reply r = c().lookup(FUSE_ROOT_ID, "hello");
  ASSERT_EQ(r.error(), 0);
  auto e = r.as<fuse_entry_out>();
  EXPECT_GT(e.nodeid, 1u);
  EXPECT_TRUE(S_ISREG(e.attr.mode));
  EXPECT_EQ(e.attr.size, 11u);
  EXPECT_EQ(e.entry_valid, 1u);
  EXPECT_EQ(c().node_of(FUSE_ROOT_ID, "hello"), e.nodeid);  // same inode, same node id
  Reply g = c().getattr(e.nodeid);
  ASSERT_EQ(g.error(), 0);
  EXPECT_EQ(g.as<fuse_attr_out>().attr.ino, e.attr.ino);
  EXPECT_EQ(g.as<fuse_attr_out>().attr_valid, 1u);  // PassthroughOptions::timeout_ns
  EXPECT_TRUE(FuseClient::missing(c().lookup(FUSE_ROOT_ID, "missing")));
  Reply root = c().getattr(FUSE_ROOT_ID);
  ASSERT_EQ(root.error(), 0);
  EXPECT_TRUE(S_ISDIR(root.as<fuse_attr_out>().attr.mode));
}

TEST_F(FsOps, CreateWriteReadAppendTruncate) {
  Reply r = c().create(FUSE_ROOT_ID, "f", O_RDWR | O_CREAT, 0640);
  ASSERT_EQ(r.error(), 0);
  Created f = created(r);
  EXPECT_EQ(f.attr.mode & 07777, 0640u);
  ASSERT_EQ(c().write(f.node, f.fh, 0, "hello").error(), 0);
  ASSERT_EQ(c().write(f.node, f.fh, 5, " world").as<fuse_write_out>().size, 6u);
  EXPECT_EQ(c().read_str(f.node, f.fh, 0, 100), "hello world");
  EXPECT_EQ(c().read_str(f.node, f.fh, 6, 3), "wor");
  EXPECT_EQ(c().read_str(f.node, f.fh, 1000, 3), "");
  EXPECT_EQ(read_file(in_share("f")), "hello world");

  // O_APPEND: writes land at the end whatever the offset.
  Reply a = c().open(f.node, O_WRONLY | O_APPEND);
  ASSERT_EQ(a.error(), 0);
  uint64_t afh = a.as<fuse_open_out>().fh;
  ASSERT_EQ(c().write(f.node, afh, 0, "!").error(), 0);
  EXPECT_EQ(read_file(in_share("f")), "hello world!");

  // Truncate by SETATTR (by node, and by handle), and by O_TRUNC.
  fuse_setattr_in sa{};
  sa.valid = FATTR_SIZE;
  sa.size = 5;
  Bytes b;
  put(&b, sa);
  Reply t = c().call(FUSE_SETATTR, f.node, b);
  ASSERT_EQ(t.error(), 0);
  EXPECT_EQ(t.as<fuse_attr_out>().attr.size, 5u);
  sa.valid = FATTR_SIZE | FATTR_FH;
  sa.fh = f.fh;
  sa.size = 2;
  Bytes b2;
  put(&b2, sa);
  EXPECT_EQ(c().call(FUSE_SETATTR, f.node, b2).as<fuse_attr_out>().attr.size, 2u);
  EXPECT_EQ(read_file(in_share("f")), "he");
  ASSERT_EQ(c().open(f.node, O_WRONLY | O_TRUNC).error(), 0);
  EXPECT_EQ(read_file(in_share("f")), "");

  EXPECT_EQ(c().release(f.node, afh).error(), 0);
  EXPECT_EQ(c().release(f.node, afh).error(), -EBADF);  // already released
}

TEST_F(FsOps, CreateExclusiveAndNonExclusive) {
  write_file(in_share("exists"), "old");
  EXPECT_EQ(c().create(FUSE_ROOT_ID, "exists", O_RDWR | O_CREAT | O_EXCL).error(), -EEXIST);
  Reply r = c().create(FUSE_ROOT_ID, "exists", O_RDWR | O_CREAT);
  ASSERT_EQ(r.error(), 0);
  Created f = created(r);
  EXPECT_EQ(c().read_str(f.node, f.fh, 0, 10), "old");
  Reply t = c().create(FUSE_ROOT_ID, "exists", O_RDWR | O_CREAT | O_TRUNC);
  ASSERT_EQ(t.error(), 0);
  EXPECT_EQ(read_file(in_share("exists")), "");
}

TEST_F(FsOps, UnlinkWhileOpenKeepsTheData) {
  Created f = created(c().create(FUSE_ROOT_ID, "gone", O_RDWR));
  ASSERT_NE(f.fh, 0u);
  ASSERT_EQ(c().write(f.node, f.fh, 0, "still here").error(), 0);
  ASSERT_EQ(c().name_op(FUSE_UNLINK, FUSE_ROOT_ID, "gone").error(), 0);
  EXPECT_NE(::access(in_share("gone").c_str(), F_OK), 0);
  EXPECT_EQ(c().read_str(f.node, f.fh, 0, 100), "still here");
  Reply g = c().getattr(f.node);
  ASSERT_EQ(g.error(), 0);
  EXPECT_EQ(g.as<fuse_attr_out>().attr.nlink, 0u);
  EXPECT_TRUE(FuseClient::missing(c().lookup(FUSE_ROOT_ID, "gone")));
}

// rm -rf: the guest unlinks what each READDIR returned before asking for more.
// On tmpfs an lseek to a READDIR offset counts entries from the start, so a server
// that re-seeks per request skipped entries here (found by tests/e2e fs_virtiofs).
TEST_F(FsOps, ReaddirWhileUnlinking) {
  Reply d = c().mkdir(FUSE_ROOT_ID, "rmdir", 0755);
  ASSERT_EQ(d.error(), 0);
  uint64_t dir = d.as<fuse_entry_out>().nodeid;
  constexpr int kCount = 500;
  for (int i = 0; i < kCount; ++i) write_file(in_share("rmdir/entry-" + std::to_string(i)), "");
  Reply o = c().opendir(dir);
  ASSERT_EQ(o.error(), 0);
  uint64_t fh = o.as<fuse_open_out>().fh;
  std::set<std::string> names;
  uint64_t off = 0;
  for (;;) {
    fuse_read_in rd{};
    rd.fh = fh;
    rd.offset = off;
    rd.size = 4096;
    Bytes b;
    put(&b, rd);
    Reply r = c().call(FUSE_READDIR, dir, b);
    ASSERT_EQ(r.error(), 0);
    if (r.body.empty()) break;
    for (size_t pos = 0; pos < r.body.size();) {
      auto de = r.as<fuse_dirent>(pos);
      std::string name(reinterpret_cast<const char*>(r.body.data() + pos + FUSE_NAME_OFFSET),
                       de.namelen);
      if (name != "." && name != "..") {
        names.insert(name);
        ASSERT_EQ(::unlink(in_share("rmdir/" + name).c_str()), 0) << name;
      }
      off = de.off;
      pos += FUSE_DIRENT_ALIGN(FUSE_NAME_OFFSET + de.namelen);
    }
  }
  EXPECT_EQ(names.size(), static_cast<size_t>(kCount));
  EXPECT_EQ(c().release(dir, fh, /*dir=*/true).error(), 0);
  EXPECT_EQ(::rmdir(in_share("rmdir").c_str()), 0);
}

TEST_F(FsOps, MkdirReaddirManyEntries) {
  Reply d = c().mkdir(FUSE_ROOT_ID, "dir", 0750);
  ASSERT_EQ(d.error(), 0);
  uint64_t dir = d.as<fuse_entry_out>().nodeid;
  EXPECT_EQ(d.as<fuse_entry_out>().attr.mode & 07777, 0750u);
  constexpr int kCount = 1000;
  for (int i = 0; i < kCount; ++i) write_file(in_share("dir/entry-" + std::to_string(i)), "");

  for (bool plus : {false, true}) {
    size_t inodes_before = fs_->inode_count();
    Reply o = c().opendir(dir);
    ASSERT_EQ(o.error(), 0);
    uint64_t fh = o.as<fuse_open_out>().fh;
    std::set<std::string> names;
    std::map<uint64_t, uint64_t> looked_up;
    uint64_t off = 0;
    int rounds = 0;
    for (;;) {
      fuse_read_in rd{};
      rd.fh = fh;
      rd.offset = off;
      rd.size = 4096;  // forces many round trips
      Bytes b;
      put(&b, rd);
      Reply r = c().call(plus ? FUSE_READDIRPLUS : FUSE_READDIR, dir, b);
      ASSERT_EQ(r.error(), 0);
      ASSERT_LE(r.body.size(), 4096u);
      if (r.body.empty()) break;
      ++rounds;
      size_t pos = 0;
      while (pos < r.body.size()) {
        fuse_entry_out eo{};
        if (plus) {
          eo = r.as<fuse_entry_out>(pos);
          pos += sizeof(fuse_entry_out);
        }
        auto de = r.as<fuse_dirent>(pos);
        ASSERT_LE(pos + FUSE_NAME_OFFSET + de.namelen, r.body.size());
        std::string name(reinterpret_cast<const char*>(r.body.data() + pos + FUSE_NAME_OFFSET),
                         de.namelen);
        EXPECT_TRUE(names.insert(name).second) << "duplicate " << name;
        if (plus && name != "." && name != "..") {
          EXPECT_NE(eo.nodeid, 0u) << name;
          EXPECT_TRUE(S_ISREG(eo.attr.mode));
          looked_up[eo.nodeid]++;
        }
        off = de.off;
        pos += FUSE_DIRENT_ALIGN(FUSE_NAME_OFFSET + de.namelen);
      }
    }
    EXPECT_EQ(names.size(), static_cast<size_t>(kCount) + 2);  // with "." and ".."
    EXPECT_TRUE(names.count(".") && names.count("..") && names.count("entry-999"));
    EXPECT_GT(rounds, 5);
    EXPECT_EQ(c().release(dir, fh, /*dir=*/true).error(), 0);
    if (plus) {
      EXPECT_EQ(fs_->inode_count(), inodes_before + kCount);
      for (auto [node, n] : looked_up) c().forget(node, n);
      EXPECT_EQ(fs_->inode_count(), inodes_before);
    }
  }
  EXPECT_EQ(c().name_op(FUSE_RMDIR, FUSE_ROOT_ID, "dir").error(), -ENOTEMPTY);
}

TEST_F(FsOps, RenamePlainNoReplaceAndExchange) {
  write_file(in_share("a"), "A");
  write_file(in_share("b"), "B");
  ASSERT_EQ(c().mkdir(FUSE_ROOT_ID, "sub").error(), 0);
  uint64_t sub = c().node_of(FUSE_ROOT_ID, "sub");
  auto rename = [&](uint32_t opcode, const std::string& from, uint64_t newdir,
                    const std::string& to, uint32_t flags) {
    Bytes b;
    if (opcode == FUSE_RENAME) {
      put(&b, fuse_rename_in{newdir});
    } else {
      put(&b, fuse_rename2_in{newdir, flags, 0});
    }
    put_str(&b, from);
    put_str(&b, to);
    return c().call(opcode, FUSE_ROOT_ID, b).error();
  };
  EXPECT_EQ(rename(FUSE_RENAME2, "a", FUSE_ROOT_ID, "b", RENAME_NOREPLACE), -EEXIST);
  EXPECT_EQ(rename(FUSE_RENAME2, "a", FUSE_ROOT_ID, "b", RENAME_EXCHANGE), 0);
  EXPECT_EQ(read_file(in_share("a")), "B");
  EXPECT_EQ(read_file(in_share("b")), "A");
  EXPECT_EQ(rename(FUSE_RENAME, "a", FUSE_ROOT_ID, "b", 0), 0);  // over an existing file
  EXPECT_EQ(read_file(in_share("b")), "B");
  EXPECT_NE(::access(in_share("a").c_str(), F_OK), 0);
  EXPECT_EQ(rename(FUSE_RENAME, "b", sub, "moved", 0), 0);
  EXPECT_EQ(read_file(in_share("sub/moved")), "B");
  EXPECT_EQ(rename(FUSE_RENAME, "b", 999999, "x", 0), -ENOENT);  // forged target dir
}

TEST_F(FsOps, LinkSymlinkReadlink) {
  write_file(in_share("t"), "target");
  uint64_t t = c().node_of(FUSE_ROOT_ID, "t");
  Bytes b;
  put(&b, fuse_link_in{t});
  put_str(&b, "hard");
  Reply l = c().call(FUSE_LINK, FUSE_ROOT_ID, b);
  ASSERT_EQ(l.error(), 0);
  EXPECT_EQ(l.as<fuse_entry_out>().nodeid, t);
  EXPECT_EQ(l.as<fuse_entry_out>().attr.nlink, 2u);
  EXPECT_EQ(read_file(in_share("hard")), "target");

  Bytes s;
  put_str(&s, "soft");
  put_str(&s, "t");
  Reply sl = c().call(FUSE_SYMLINK, FUSE_ROOT_ID, s);
  ASSERT_EQ(sl.error(), 0);
  uint64_t soft = sl.as<fuse_entry_out>().nodeid;
  EXPECT_TRUE(S_ISLNK(sl.as<fuse_entry_out>().attr.mode));
  Reply rl = c().call(FUSE_READLINK, soft, {});
  ASSERT_EQ(rl.error(), 0);
  EXPECT_EQ(std::string(rl.body.begin(), rl.body.end()), "t");
  EXPECT_EQ(c().call(FUSE_READLINK, t, {}).error(), -EINVAL);  // not a symlink
  uint64_t dir = c().mkdir(FUSE_ROOT_ID, "d").as<fuse_entry_out>().nodeid;
  Bytes dl;
  put(&dl, fuse_link_in{dir});
  put_str(&dl, "dirlink");
  EXPECT_EQ(c().call(FUSE_LINK, FUSE_ROOT_ID, dl).error(), -EPERM);
}

TEST_F(FsOps, ChmodChownUtimes) {
  Created f = created(c().create(FUSE_ROOT_ID, "m", O_RDWR, 0600));
  fuse_setattr_in sa{};
  sa.valid = FATTR_MODE;
  sa.mode = 0604;
  Bytes b;
  put(&b, sa);
  EXPECT_EQ(c().call(FUSE_SETATTR, f.node, b).as<fuse_attr_out>().attr.mode & 07777, 0604u);
  struct stat st {};
  ASSERT_EQ(::stat(in_share("m").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0604u);

  sa = {};
  sa.valid = FATTR_ATIME | FATTR_MTIME;
  sa.atime = 1000;
  sa.atimensec = 5;
  sa.mtime = 2000;
  Bytes t;
  put(&t, sa);
  ASSERT_EQ(c().call(FUSE_SETATTR, f.node, t).error(), 0);
  ASSERT_EQ(::stat(in_share("m").c_str(), &st), 0);
  EXPECT_EQ(st.st_atim.tv_sec, 1000);
  EXPECT_EQ(st.st_atim.tv_nsec, 5);
  EXPECT_EQ(st.st_mtim.tv_sec, 2000);
  sa.valid = FATTR_MTIME | FATTR_MTIME_NOW;
  Bytes now;
  put(&now, sa);
  ASSERT_EQ(c().call(FUSE_SETATTR, f.node, now).error(), 0);
  ASSERT_EQ(::stat(in_share("m").c_str(), &st), 0);
  EXPECT_GT(st.st_mtim.tv_sec, 2000);
  EXPECT_EQ(st.st_atim.tv_sec, 1000);  // untouched

  sa = {};
  sa.valid = FATTR_MTIME;
  sa.mtimensec = 2'000'000'000;  // not a valid nanosecond count
  Bytes bad;
  put(&bad, sa);
  EXPECT_EQ(c().call(FUSE_SETATTR, f.node, bad).error(), -EINVAL);

  if (::geteuid() != 0) GTEST_SKIP() << "chown needs root";
  sa = {};
  sa.valid = FATTR_UID | FATTR_GID;
  sa.uid = 1234;
  sa.gid = 5678;
  Bytes o;
  put(&o, sa);
  Reply r = c().call(FUSE_SETATTR, f.node, o);
  ASSERT_EQ(r.error(), 0);
  EXPECT_EQ(r.as<fuse_attr_out>().attr.uid, 1234u);
  ASSERT_EQ(::stat(in_share("m").c_str(), &st), 0);
  EXPECT_EQ(st.st_gid, 5678u);
}

TEST_F(FsOps, CreatedObjectsGetTheCallersIdsAndExactMode) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root (CAP_CHOWN)";
  mode_t old = ::umask(077);  // the VMM's own umask must not leak into the share
  c().uid = 1001;
  c().gid = 2002;
  Created f = created(c().create(FUSE_ROOT_ID, "owned", O_RDWR, 0664));
  Reply d = c().mkdir(FUSE_ROOT_ID, "odir", 0775);
  Bytes s;
  put_str(&s, "olink");
  put_str(&s, "owned");
  Reply l = c().call(FUSE_SYMLINK, FUSE_ROOT_ID, s);
  fuse_mknod_in mk{};
  mk.mode = S_IFIFO | 0660;
  Bytes m;
  put(&m, mk);
  put_str(&m, "ofifo");
  Reply n = c().call(FUSE_MKNOD, FUSE_ROOT_ID, m);
  ::umask(old);
  ASSERT_NE(f.node, 0u);
  ASSERT_EQ(d.error(), 0);
  ASSERT_EQ(l.error(), 0);
  ASSERT_EQ(n.error(), 0);
  struct stat st {};
  for (const char* name : {"owned", "odir", "olink", "ofifo"}) {
    ASSERT_EQ(::lstat(in_share(name).c_str(), &st), 0);
    EXPECT_EQ(st.st_uid, 1001u) << name;
    EXPECT_EQ(st.st_gid, 2002u) << name;
  }
  ASSERT_EQ(::stat(in_share("owned").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0664u);
  ASSERT_EQ(::stat(in_share("odir").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0775u);
  ASSERT_EQ(::lstat(in_share("ofifo").c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0660u);
}

TEST_F(FsOps, Xattrs) {
  Created f = created(c().create(FUSE_ROOT_ID, "x", O_RDWR));
  auto set = [&](const std::string& name, const std::string& value, uint32_t flags = 0) {
    Bytes b;
    fuse_setxattr_in in{};
    in.size = static_cast<uint32_t>(value.size());
    in.flags = flags;
    b.insert(b.end(), reinterpret_cast<uint8_t*>(&in), reinterpret_cast<uint8_t*>(&in) + 8);
    put_str(&b, name);
    b.insert(b.end(), value.begin(), value.end());
    return c().call(FUSE_SETXATTR, f.node, b).error();
  };
  auto get = [&](const std::string& name, uint32_t size) {
    Bytes b;
    put(&b, fuse_getxattr_in{size, 0});
    put_str(&b, name);
    return c().call(FUSE_GETXATTR, f.node, b);
  };
  int rc = set("user.color", "blue");
  if (rc == -EOPNOTSUPP) GTEST_SKIP() << "no user xattrs on the temp filesystem";
  ASSERT_EQ(rc, 0);
  EXPECT_EQ(set("user.color", "red", XATTR_CREATE), -EEXIST);
  Reply q = get("user.color", 0);
  ASSERT_EQ(q.error(), 0);
  EXPECT_EQ(q.as<fuse_getxattr_out>().size, 4u);
  Reply v = get("user.color", 100);
  ASSERT_EQ(v.error(), 0);
  EXPECT_EQ(std::string(v.body.begin(), v.body.end()), "blue");
  EXPECT_EQ(get("user.color", 2).error(), -ERANGE);
  EXPECT_EQ(get("user.none", 100).error(), -ENODATA);
  char host[16] = {};
  ASSERT_EQ(::getxattr(in_share("x").c_str(), "user.color", host, sizeof(host)), 4);
  EXPECT_STREQ(host, "blue");

  Bytes lb;
  put(&lb, fuse_getxattr_in{0, 0});
  Reply ls = c().call(FUSE_LISTXATTR, f.node, lb);
  ASSERT_EQ(ls.error(), 0);
  uint32_t need = ls.as<fuse_getxattr_out>().size;
  EXPECT_GE(need, 11u);
  Bytes lb2;
  put(&lb2, fuse_getxattr_in{need, 0});
  Reply names = c().call(FUSE_LISTXATTR, f.node, lb2);
  ASSERT_EQ(names.error(), 0);
  std::string all(names.body.begin(), names.body.end());
  EXPECT_NE(all.find(std::string("user.color\0", 11)), std::string::npos);

  EXPECT_EQ(set("trusted.overlay.opaque", "y"), -EPERM);
  EXPECT_EQ(c().name_op(FUSE_REMOVEXATTR, f.node, "user.color").error(), 0);
  EXPECT_EQ(get("user.color", 100).error(), -ENODATA);
}

TEST_F(FsOps, StatfsFsyncFlushAccessLseekFallocateCopy) {
  Reply s = c().call(FUSE_STATFS, FUSE_ROOT_ID, {});
  ASSERT_EQ(s.error(), 0);
  EXPECT_GT(s.as<fuse_statfs_out>().st.bsize, 0u);
  EXPECT_EQ(s.as<fuse_statfs_out>().st.namelen, 255u);

  Created f = created(c().create(FUSE_ROOT_ID, "s", O_RDWR));
  ASSERT_EQ(c().write(f.node, f.fh, 0, "0123456789").error(), 0);
  for (uint32_t op : {FUSE_FSYNC}) {
    Bytes b;
    fuse_fsync_in in{};
    in.fh = f.fh;
    in.fsync_flags = FUSE_FSYNC_FDATASYNC;
    put(&b, in);
    EXPECT_EQ(c().call(op, f.node, b).error(), 0);
    in.fh = 12345;
    Bytes bad;
    put(&bad, in);
    EXPECT_EQ(c().call(op, f.node, bad).error(), -EBADF);
  }
  uint64_t dfh = c().opendir(FUSE_ROOT_ID).as<fuse_open_out>().fh;
  Bytes fd;
  fuse_fsync_in din{};
  din.fh = dfh;
  put(&fd, din);
  EXPECT_EQ(c().call(FUSE_FSYNCDIR, FUSE_ROOT_ID, fd).error(), 0);
  Bytes fl;
  fuse_flush_in fin{};
  fin.fh = f.fh;
  put(&fl, fin);
  // The default cache mode (auto) turns the guest's FLUSHes off (cache_policy_test.cpp);
  // the file system's flush still works for `none`.
  EXPECT_EQ(c().call(FUSE_FLUSH, f.node, fl).error(), -ENOSYS);
  EXPECT_EQ(fs_->flush(Context{}, f.node, f.fh), 0);

  Bytes ac;
  put(&ac, fuse_access_in{R_OK | W_OK, 0});
  EXPECT_EQ(c().call(FUSE_ACCESS, f.node, ac).error(), 0);
  c().uid = 4242;  // a stranger may read (0644) but not write
  EXPECT_EQ(c().call(FUSE_ACCESS, f.node, ac).error(), -EACCES);
  Bytes ar;
  put(&ar, fuse_access_in{R_OK, 0});
  EXPECT_EQ(c().call(FUSE_ACCESS, f.node, ar).error(), 0);
  c().uid = 0;

  fuse_fallocate_in fa{};
  fa.fh = f.fh;
  fa.offset = 0;
  fa.length = 8192;
  Bytes fab;
  put(&fab, fa);
  ASSERT_EQ(c().call(FUSE_FALLOCATE, f.node, fab).error(), 0);
  EXPECT_EQ(c().getattr(f.node).as<fuse_attr_out>().attr.size, 8192u);

  fuse_lseek_in lk{};
  lk.fh = f.fh;
  lk.offset = 3;
  lk.whence = SEEK_DATA;
  Bytes lkb;
  put(&lkb, lk);
  Reply ls = c().call(FUSE_LSEEK, f.node, lkb);
  ASSERT_EQ(ls.error(), 0);
  EXPECT_EQ(ls.as<fuse_lseek_out>().offset, 3u);
  lk.whence = 77;
  Bytes lkbad;
  put(&lkbad, lk);
  EXPECT_EQ(c().call(FUSE_LSEEK, f.node, lkbad).error(), -EINVAL);

  Created g = created(c().create(FUSE_ROOT_ID, "copy", O_RDWR));
  fuse_copy_file_range_in cp{};
  cp.fh_in = f.fh;
  cp.off_in = 2;
  cp.nodeid_out = g.node;
  cp.fh_out = g.fh;
  cp.off_out = 0;
  cp.len = 5;
  Bytes cpb;
  put(&cpb, cp);
  Reply cr = c().call(FUSE_COPY_FILE_RANGE, f.node, cpb);
  ASSERT_EQ(cr.error(), 0);
  EXPECT_EQ(cr.as<fuse_write_out>().size, 5u);
  EXPECT_EQ(read_file(in_share("copy")), "23456");
}

}  // namespace
}  // namespace runvm::vmm::virtio::fs::testing
