// The 9P2000.L server over a PassthroughFs on a temporary share.
#include "vmm/devices/virtio/p9/p9_server.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <set>

#include "tests/support/temp_dir.h"
#include "tests/vmm/p9/p9_client.h"
#include "vmm/devices/virtio/fs/passthrough_fs.h"
#include "vmm/devices/virtio/fs/read_only_fs.h"

namespace runvm::vmm::virtio::p9::testing {
namespace {

enum : uint8_t {
  Rlerror = 7,
  Rstatfs = 9,
  Rlopen = 13,
  Rlcreate = 15,
  Rsymlink = 17,
  Rreadlink = 23,
  Rgetattr = 25,
  Rsetattr = 27,
  Rxattrwalk = 31,
  Rxattrcreate = 33,
  Rreaddir = 41,
  Rfsync = 51,
  Rlock = 53,
  Rgetlock = 55,
  Rlink = 71,
  Rmkdir = 73,
  Rrenameat = 75,
  Runlinkat = 77,
  Rversion = 101,
  Rattach = 105,
  Rflush = 109,
  Rwalk = 111,
  Rread = 117,
  Rwrite = 119,
  Rclunk = 121,
};

void write_file(const std::string& p, const std::string& d) {
  std::ofstream(p) << d;
}
std::string read_file(const std::string& p) {
  std::ifstream f(p);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

class P9Test : public ::testing::Test {
 protected:
  void SetUp() override {
    share_ = tmp_ / "share";
    outside_ = tmp_ / "outside";
    ASSERT_EQ(::mkdir(share_.c_str(), 0755), 0);
    ASSERT_EQ(::mkdir(outside_.c_str(), 0755), 0);
    write_file(outside_ + "/secret", "top secret");
    auto pfs = fs::PassthroughFs::create(share_);
    ASSERT_TRUE(pfs.ok());
    fs_ = *pfs;
    std::shared_ptr<fs::FileSystem> fs = fs_;
    if (read_only_) fs = std::make_shared<fs::ReadOnlyFs>(fs);
    c_ = std::make_unique<P9Client>(fs);
    ASSERT_EQ(c_->version().type, Rversion);
    ASSERT_EQ(c_->attach(kRoot).type, Rattach);
  }
  std::string in_share(const std::string& r) { return share_ + "/" + r; }
  P9Client& c() { return *c_; }

  static constexpr uint32_t kRoot = 1;
  bool read_only_ = false;
  runvm::testing::TempDir tmp_;
  std::string share_, outside_;
  std::shared_ptr<fs::PassthroughFs> fs_;
  std::unique_ptr<P9Client> c_;
};

TEST(P9Version, NegotiatesMsizeAndDialect) {
  runvm::testing::TempDir d;
  auto pfs = fs::PassthroughFs::create(d.path());
  ASSERT_TRUE(pfs.ok());
  P9Client c(*pfs);
  EXPECT_EQ(c.attach(1).error(), static_cast<uint32_t>(EPROTO));  // Tversion first
  Rmsg r = c.version(1 << 30);
  ASSERT_EQ(r.type, Rversion);
  EXPECT_EQ(r.get(4), P9Server::kDefaultMaxMsize);
  EXPECT_EQ(r.str(), "9P2000.L");
  Rmsg u = c.version(8192, "9P2000.u");
  ASSERT_EQ(u.type, Rversion);
  u.skip(4);
  EXPECT_EQ(u.str(), "unknown");
  EXPECT_EQ(c.attach(1).error(), static_cast<uint32_t>(EPROTO));
  EXPECT_EQ(c.version(100).error(), static_cast<uint32_t>(EINVAL));  // msize too small
}

TEST_F(P9Test, WalkOpenReadWriteCreate) {
  write_file(in_share("f"), "hello 9p");
  Rmsg w = c().walk(kRoot, 2, {"f"});
  ASSERT_EQ(w.type, Rwalk);
  EXPECT_EQ(w.get(2), 1u);
  ASSERT_EQ(c().lopen(2, O_RDWR).type, Rlopen);
  EXPECT_EQ(c().read_str(2, 0, 100), "hello 9p");
  EXPECT_EQ(c().read_str(2, 6, 100), "9p");
  Rmsg wr = c().write(2, 8, "!!");
  ASSERT_EQ(wr.type, Rwrite);
  EXPECT_EQ(wr.get(4), 2u);
  EXPECT_EQ(read_file(in_share("f")), "hello 9p!!");
  EXPECT_EQ(c().lopen(2, O_RDONLY).error(), static_cast<uint32_t>(EBADF));  // already open

  // Tlcreate turns the directory fid into the new open file.
  ASSERT_EQ(c().walk(kRoot, 3, {}).type, Rwalk);
  ASSERT_EQ(c().lcreate(3, "new", O_RDWR, 0640).type, Rlcreate);
  ASSERT_EQ(c().write(3, 0, "created").type, Rwrite);
  EXPECT_EQ(read_file(in_share("new")), "created");
  struct stat st {};
  ASSERT_EQ(::stat(in_share("new").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0640u);
  EXPECT_EQ(c().lcreate(kRoot, "new", O_RDWR | O_EXCL).error(), static_cast<uint32_t>(EEXIST));

  // A partial walk reports how far it got and creates no fid.
  Rmsg p = c().walk(kRoot, 4, {"f", "nope"});
  ASSERT_EQ(p.type, Rwalk);
  EXPECT_EQ(p.get(2), 1u);
  EXPECT_EQ(c().clunk(4).error(), static_cast<uint32_t>(EBADF));
  EXPECT_EQ(c().walk(kRoot, 4, {"nope"}).error(), static_cast<uint32_t>(ENOENT));
}

TEST_F(P9Test, GetattrSetattrReaddir) {
  ASSERT_EQ(::mkdir(in_share("d").c_str(), 0755), 0);
  for (int i = 0; i < 300; ++i) write_file(in_share("d/e" + std::to_string(i)), "x");
  ASSERT_EQ(c().walk(kRoot, 2, {"d", "e7"}).type, Rwalk);
  Rmsg g = c().call(24, Tmsg().u32(2).u64(0x7ff));
  ASSERT_EQ(g.type, Rgetattr);
  g.skip(8 + 13);
  EXPECT_TRUE(S_ISREG(g.get(4)));
  g.skip(4 + 4 + 8 + 8);
  EXPECT_EQ(g.get(8), 1u);  // size

  Tmsg sa;
  sa.u32(2)
      .u32(0x1 | 0x8 | 0x20 | 0x100)
      .u32(0600)
      .u32(0)
      .u32(0)
      .u64(0)
      .u64(0)
      .u64(0)
      .u64(1234)
      .u64(5);
  ASSERT_EQ(c().call(26, sa).type, Rsetattr);
  struct stat st {};
  ASSERT_EQ(::stat(in_share("d/e7").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(st.st_size, 0);
  EXPECT_EQ(st.st_mtim.tv_sec, 1234);

  ASSERT_EQ(c().walk(kRoot, 3, {"d"}).type, Rwalk);
  ASSERT_EQ(c().lopen(3, O_RDONLY).type, Rlopen);
  std::set<std::string> names;
  uint64_t off = 0;
  for (int rounds = 0; rounds < 1000; ++rounds) {
    Rmsg r = c().call(40, Tmsg().u32(3).u64(off).u32(512));
    ASSERT_EQ(r.type, Rreaddir);
    size_t count = r.get(4);
    ASSERT_LE(count, 512u);
    if (count == 0) break;
    while (r.pos < 4 + count) {
      r.skip(13);
      off = r.get(8);
      r.skip(1);
      EXPECT_TRUE(names.insert(r.str()).second);
    }
  }
  EXPECT_EQ(names.size(), 302u);
  EXPECT_EQ(c().call(40, Tmsg().u32(2).u64(0).u32(512)).error(), static_cast<uint32_t>(EBADF));
}

TEST_F(P9Test, ReaddirTooSmallForOneEntryIsAnErrorNotEndOfDirectory) {
  ASSERT_EQ(c().walk(kRoot, 2, {}).type, Rwalk);
  ASSERT_EQ(c().lopen(2, O_RDONLY).type, Rlopen);
  // "." alone needs 25 bytes; an empty reply would tell the client the listing is over.
  EXPECT_EQ(c().call(40, Tmsg().u32(2).u64(0).u32(10)).error(), static_cast<uint32_t>(EINVAL));
  Rmsg r = c().call(40, Tmsg().u32(2).u64(0).u32(512));
  ASSERT_EQ(r.type, Rreaddir);
  EXPECT_GT(r.get(4), 0u);
}

TEST_F(P9Test, WalkReplacingAnOpenFidIsRefusedAndKeepsTheFileOpen) {
  write_file(in_share("f"), "still open");
  ASSERT_EQ(c().walk(kRoot, 2, {"f"}).type, Rwalk);
  ASSERT_EQ(c().lopen(2, O_RDONLY).type, Rlopen);
  EXPECT_EQ(c().walk(2, 2, {}).error(), static_cast<uint32_t>(EBADF));
  EXPECT_EQ(c().read_str(2, 0, 100), "still open");
  // An unopened fid may still be replaced by its own walk.
  ASSERT_EQ(c().walk(kRoot, 3, {}).type, Rwalk);
  ASSERT_EQ(c().walk(3, 3, {"f"}).type, Rwalk);
  ASSERT_EQ(c().lopen(3, O_RDONLY).type, Rlopen);
  EXPECT_EQ(c().read_str(3, 0, 5), "still");
}

// A second host filesystem inside the share (here a tmpfs mounted on a
// subdirectory, in a private mount namespace): its qids carry a device prefix,
// the share's own files keep their inode numbers.
TEST_F(P9Test, QidsOfAnotherHostFilesystemCarryADevicePrefix) {
  if (::unshare(CLONE_NEWNS) != 0 || ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr))
    GTEST_SKIP() << "no private mount namespace (needs CAP_SYS_ADMIN)";
  write_file(in_share("a"), "root fs");
  ASSERT_EQ(::mkdir(in_share("m").c_str(), 0755), 0);
  ASSERT_EQ(::mount("tmpfs", in_share("m").c_str(), "tmpfs", 0, "size=1m"), 0);
  write_file(in_share("m/b"), "other fs");
  struct stat a {
  }, m{}, b{};
  ASSERT_EQ(::stat(in_share("a").c_str(), &a), 0);
  ASSERT_EQ(::stat(in_share("m").c_str(), &m), 0);
  ASSERT_EQ(::stat(in_share("m/b").c_str(), &b), 0);
  ASSERT_NE(a.st_dev, b.st_dev);
  // A server opened after the mount, in this namespace (the fixture's root fd
  // belongs to the namespace it was opened in, which has no such mount).
  auto pfs = fs::PassthroughFs::create(share_);
  ASSERT_TRUE(pfs.ok());
  P9Client client(*pfs);
  ASSERT_EQ(client.version().type, Rversion);
  ASSERT_EQ(client.attach(kRoot).type, Rattach);

  Rmsg wa = client.walk(kRoot, 2, {"a"});
  ASSERT_EQ(wa.type, Rwalk);
  ASSERT_EQ(wa.get(2), 1u);
  wa.get(1 + 4);
  EXPECT_EQ(wa.get(8), static_cast<uint64_t>(a.st_ino));
  Rmsg wb = client.walk(kRoot, 3, {"m", "b"});
  ASSERT_EQ(wb.type, Rwalk);
  ASSERT_EQ(wb.get(2), 2u);
  wb.get(1 + 4);
  EXPECT_EQ(wb.get(8), (1ull << 48) | m.st_ino);
  wb.get(1 + 4);
  const uint64_t qb = wb.get(8);
  EXPECT_EQ(qb, (1ull << 48) | b.st_ino);
  EXPECT_NE(qb, static_cast<uint64_t>(a.st_ino));
  ASSERT_EQ(client.clunk(3).type, Rclunk);
  ::umount2(in_share("m").c_str(), MNT_DETACH);
}

TEST_F(P9Test, NamespaceOperations) {
  Rmsg mk = c().call(72, Tmsg().u32(kRoot).str("dir").u32(0750).u32(0));
  ASSERT_EQ(mk.type, Rmkdir);
  EXPECT_EQ(mk.get(1), 0x80u);
  Rmsg sl = c().call(16, Tmsg().u32(kRoot).str("link").str("dir").u32(0));
  ASSERT_EQ(sl.type, Rsymlink);
  ASSERT_EQ(c().walk(kRoot, 2, {"link"}).type, Rwalk);
  Rmsg rl = c().call(22, Tmsg().u32(2));
  ASSERT_EQ(rl.type, Rreadlink);
  EXPECT_EQ(rl.str(), "dir");
  Rmsg mn = c().call(18, Tmsg().u32(kRoot).str("fifo").u32(S_IFIFO | 0600).u32(0).u32(0).u32(0));
  ASSERT_EQ(mn.type, 19);
  // The share policy holds for 9P too: no device node, no set-uid file.
  EXPECT_EQ(
      c().call(18, Tmsg().u32(kRoot).str("sda").u32(S_IFBLK | 0666).u32(8).u32(0).u32(0)).error(),
      static_cast<uint32_t>(EPERM));
  EXPECT_NE(::access(in_share("sda").c_str(), F_OK), 0);
  ASSERT_EQ(
      c().call(18, Tmsg().u32(kRoot).str("suid").u32(S_IFREG | 04755).u32(0).u32(0).u32(0)).type,
      19);
  struct stat st {};
  ASSERT_EQ(::stat(in_share("suid").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0755u);
  write_file(in_share("a"), "A");
  ASSERT_EQ(c().walk(kRoot, 3, {"a"}).type, Rwalk);
  ASSERT_EQ(c().call(70, Tmsg().u32(kRoot).u32(3).str("hard")).type, Rlink);
  EXPECT_EQ(read_file(in_share("hard")), "A");
  ASSERT_EQ(c().call(74, Tmsg().u32(kRoot).str("a").u32(kRoot).str("b")).type, Rrenameat);
  EXPECT_EQ(read_file(in_share("b")), "A");
  ASSERT_EQ(c().call(76, Tmsg().u32(kRoot).str("b").u32(0)).type, Runlinkat);
  EXPECT_EQ(c().call(76, Tmsg().u32(kRoot).str("dir").u32(0)).error(),
            static_cast<uint32_t>(EISDIR));
  ASSERT_EQ(c().call(76, Tmsg().u32(kRoot).str("dir").u32(0x200)).type, Runlinkat);
  EXPECT_NE(::access(in_share("dir").c_str(), F_OK), 0);
  EXPECT_EQ(c().call(20, Tmsg().u32(3).u32(kRoot).str("x")).error(),
            static_cast<uint32_t>(EOPNOTSUPP));
}

// Issue 10: what the guest makes the server hold in xattr buffers is bounded
// across fids, and given back when a fid goes.
TEST_F(P9Test, XattrBuffersAreBoundedAcrossFids) {
  const uint64_t each = 65536;
  const size_t fit = P9Server::kMaxXattrBytes / each;
  for (uint32_t i = 0; i < fit; ++i) {
    ASSERT_EQ(c().walk(kRoot, 100 + i, {}).type, Rwalk);
    ASSERT_EQ(c().call(32, Tmsg().u32(100 + i).str("user.big").u64(each).u32(0)).type, Rxattrcreate)
        << i;
  }
  EXPECT_EQ(c().server().xattr_bytes(), P9Server::kMaxXattrBytes);
  ASSERT_EQ(c().walk(kRoot, 99, {}).type, Rwalk);
  EXPECT_EQ(c().call(32, Tmsg().u32(99).str("user.big").u64(each).u32(0)).error(),
            static_cast<uint32_t>(ENOSPC));
  // A fid that goes gives its share back (its value was never written: EINVAL).
  EXPECT_EQ(c().clunk(100).error(), static_cast<uint32_t>(EINVAL));
  EXPECT_EQ(c().call(32, Tmsg().u32(99).str("user.big").u64(each).u32(0)).type, Rxattrcreate);
  ASSERT_EQ(c().version().type, Rversion);  // a new session clunks every fid
  EXPECT_EQ(c().server().xattr_bytes(), 0u);
}

TEST_F(P9Test, XattrsStatfsFsyncLocksFlush) {
  write_file(in_share("x"), "");
  ASSERT_EQ(c().walk(kRoot, 2, {"x"}).type, Rwalk);
  ASSERT_EQ(c().walk(2, 3, {}).type, Rwalk);
  ASSERT_EQ(c().call(32, Tmsg().u32(3).str("user.k").u64(3).u32(0)).type, Rxattrcreate);
  ASSERT_EQ(c().write(3, 0, "val").type, Rwrite);
  EXPECT_EQ(c().write(3, 3, "more").error(), static_cast<uint32_t>(EINVAL));  // over the size
  Rmsg cl = c().clunk(3);
  if (cl.error() == EOPNOTSUPP) GTEST_SKIP() << "no user xattrs here";
  ASSERT_EQ(cl.type, Rclunk);
  Rmsg xw = c().call(30, Tmsg().u32(2).u32(4).str("user.k"));
  ASSERT_EQ(xw.type, Rxattrwalk);
  EXPECT_EQ(xw.get(8), 3u);
  EXPECT_EQ(c().read_str(4, 0, 100), "val");
  ASSERT_EQ(c().clunk(4).type, Rclunk);
  Rmsg ls = c().call(30, Tmsg().u32(2).u32(4).str(""));
  ASSERT_EQ(ls.type, Rxattrwalk);
  EXPECT_NE(c().read_str(4, 0, 100).find("user.k"), std::string::npos);
  ASSERT_EQ(c().clunk(4).type, Rclunk);
  EXPECT_EQ(c().call(30, Tmsg().u32(2).u32(4).str("user.none")).error(),
            static_cast<uint32_t>(ENODATA));
  // Txattrcreate with size 0 is removexattr (how the Linux client removes one).
  ASSERT_EQ(c().walk(2, 3, {}).type, Rwalk);
  ASSERT_EQ(c().call(32, Tmsg().u32(3).str("user.k").u64(0).u32(2)).type, Rxattrcreate);
  ASSERT_EQ(c().clunk(3).type, Rclunk);
  EXPECT_EQ(c().call(30, Tmsg().u32(2).u32(4).str("user.k")).error(),
            static_cast<uint32_t>(ENODATA));

  Rmsg sf = c().call(8, Tmsg().u32(kRoot));
  ASSERT_EQ(sf.type, Rstatfs);
  EXPECT_EQ(sf.get(4), 0x01021997u);
  EXPECT_EQ(c().call(50, Tmsg().u32(2).u32(0)).error(), static_cast<uint32_t>(EBADF));
  ASSERT_EQ(c().lopen(2, O_RDWR).type, Rlopen);
  EXPECT_EQ(c().call(50, Tmsg().u32(2).u32(1)).type, Rfsync);
  Rmsg lk = c().call(52, Tmsg().u32(2).u8(1).u32(0).u64(0).u64(10).u32(7).str("host"));
  ASSERT_EQ(lk.type, Rlock);
  EXPECT_EQ(lk.get(1), 0u);
  Rmsg gl = c().call(54, Tmsg().u32(2).u8(1).u64(0).u64(10).u32(7).str("host"));
  ASSERT_EQ(gl.type, Rgetlock);
  EXPECT_EQ(gl.get(1), 2u);
  EXPECT_EQ(c().call(108, Tmsg().u16(5)).type, Rflush);
}

TEST_F(P9Test, ContainmentAndHostileMessages) {
  ASSERT_EQ(::symlink("/etc/passwd", in_share("abs").c_str()), 0);
  ASSERT_EQ(::symlink(outside_.c_str(), in_share("out").c_str()), 0);
  Rmsg up = c().walk(kRoot, 2, {"..", "..", ".."});
  ASSERT_EQ(up.type, Rwalk);
  EXPECT_EQ(up.get(2), 3u);
  Rmsg root = c().call(24, Tmsg().u32(2).u64(0x7ff));
  Rmsg real_root = c().call(24, Tmsg().u32(kRoot).u64(0x7ff));
  EXPECT_EQ(root.body, real_root.body);  // ".." above the share is the share
  EXPECT_EQ(c().walk(kRoot, 3, {"abs"}).type, Rwalk);
  EXPECT_EQ(c().lopen(3, O_RDONLY).error(), static_cast<uint32_t>(ELOOP));
  EXPECT_EQ(c().walk(kRoot, 4, {"out", "secret"}).get(2), 1u);  // stops at the symlink
  EXPECT_EQ(c().walk(kRoot, 4, {"../outside"}).error(), static_cast<uint32_t>(EINVAL));
  EXPECT_EQ(c().walk(kRoot, 4, {""}).error(), static_cast<uint32_t>(EINVAL));
  EXPECT_EQ(c().lcreate(kRoot, "a/b", O_RDWR).error(), static_cast<uint32_t>(EINVAL));
  EXPECT_EQ(c().lcreate(kRoot, "..", O_RDWR).error(), static_cast<uint32_t>(EINVAL));
  std::vector<std::string> many(17, ".");
  EXPECT_EQ(c().walk(kRoot, 4, many).error(), static_cast<uint32_t>(EINVAL));
  EXPECT_EQ(c().walk(kRoot, 2, {}).error(), static_cast<uint32_t>(EBADF));  // fid 2 in use
  EXPECT_EQ(c().attach(kRoot).error(), static_cast<uint32_t>(EBADF));
  EXPECT_EQ(c().read(77, 0, 10).error(), static_cast<uint32_t>(EBADF));

  // Size field lying, short bodies, unknown types.
  EXPECT_EQ(c().call(24, Tmsg().u32(kRoot).u64(0), 4096, 500).error(),
            static_cast<uint32_t>(EINVAL));
  EXPECT_EQ(c().call(24, Tmsg(), 4096, 3).error(), static_cast<uint32_t>(EINVAL));
  for (int type = 0; type < 256; ++type) {
    for (size_t n : {0, 1, 3, 5}) {
      Tmsg t;
      for (size_t i = 0; i < n; ++i) t.u8(0xff);
      Rmsg r = c().call(static_cast<uint8_t>(type), t);
      ASSERT_GE(r.written, 7u) << type;
      if (type == 108 && n >= 2) continue;  // Tflush with a tag: fine
      EXPECT_EQ(r.type, Rlerror) << "type " << type << " len " << n;
    }
  }
  EXPECT_EQ(c().raw({1, 2, 3}, 4096).written, 0u);
  EXPECT_EQ(c().call(24, Tmsg().u32(kRoot).u64(0), 5).written, 0u);  // no room for a reply
  // Too little room for Rmkdir: refused before anything is created.
  EXPECT_EQ(c().call(72, Tmsg().u32(kRoot).str("nd").u32(0755).u32(0), 12).error(),
            static_cast<uint32_t>(ENOBUFS));
  EXPECT_NE(::access((share_ + "/nd").c_str(), F_OK), 0);
  // A clone walk (nwname 0) needs room for nwqid only: Linux gives it 11 bytes.
  EXPECT_EQ(c().call(110, Tmsg().u32(kRoot).u32(4242).u16(0), 11).type, Rwalk);
  EXPECT_EQ(read_file(outside_ + "/secret"), "top secret");
}

TEST_F(P9Test, ClunkAndVersionReleaseEverything) {
  write_file(in_share("f"), "");
  const size_t inodes = fs_->inode_count();
  for (int i = 0; i < 200; ++i) {
    ASSERT_EQ(c().walk(kRoot, 10, {"f"}).type, Rwalk);
    ASSERT_EQ(c().lopen(10, O_RDONLY).type, Rlopen);
    ASSERT_EQ(c().clunk(10).type, Rclunk);
  }
  EXPECT_EQ(fs_->inode_count(), inodes);
  EXPECT_EQ(fs_->handle_count(), 0u);
  ASSERT_EQ(c().walk(kRoot, 11, {"f"}).type, Rwalk);
  ASSERT_EQ(c().lopen(11, O_RDONLY).type, Rlopen);
  EXPECT_EQ(c().server().fid_count(), 2u);
  ASSERT_EQ(c().version().type, Rversion);  // a new session clunks every fid
  EXPECT_EQ(c().server().fid_count(), 0u);
  EXPECT_EQ(fs_->handle_count(), 0u);
  EXPECT_EQ(fs_->inode_count(), 1u);
}

class P9ReadOnly : public P9Test {
 protected:
  void SetUp() override {
    read_only_ = true;
    P9Test::SetUp();
  }
};

TEST_F(P9ReadOnly, WritesAreEROFS) {
  write_file(in_share("f"), "ro");
  ASSERT_EQ(c().walk(kRoot, 2, {"f"}).type, Rwalk);
  const uint32_t erofs = EROFS;
  EXPECT_EQ(c().lopen(2, O_RDWR).error(), erofs);
  EXPECT_EQ(c().walk(kRoot, 3, {}).type, Rwalk);
  EXPECT_EQ(c().lcreate(3, "n", O_RDWR).error(), erofs);
  EXPECT_EQ(c().call(72, Tmsg().u32(kRoot).str("d").u32(0755).u32(0)).error(), erofs);
  EXPECT_EQ(c().call(16, Tmsg().u32(kRoot).str("l").str("f").u32(0)).error(), erofs);
  EXPECT_EQ(c().call(76, Tmsg().u32(kRoot).str("f").u32(0)).error(), erofs);
  EXPECT_EQ(c().call(74, Tmsg().u32(kRoot).str("f").u32(kRoot).str("g")).error(), erofs);
  EXPECT_EQ(c().call(70, Tmsg().u32(kRoot).u32(2).str("h")).error(), erofs);
  Tmsg sa;
  sa.u32(2).u32(0x1).u32(0777).u32(0).u32(0).u64(0).u64(0).u64(0).u64(0).u64(0);
  EXPECT_EQ(c().call(26, sa).error(), erofs);
  ASSERT_EQ(c().lopen(2, O_RDONLY).type, Rlopen);
  EXPECT_EQ(c().read_str(2, 0, 10), "ro");
  EXPECT_EQ(c().write(2, 0, "x").error(), erofs);
  EXPECT_EQ(read_file(in_share("f")), "ro");
}

}  // namespace
}  // namespace runvm::vmm::virtio::p9::testing
