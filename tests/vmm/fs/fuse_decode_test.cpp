// Decoding: INIT negotiation and hostile, malformed messages.
#include <fcntl.h>

#include <cerrno>

#include "tests/vmm/fs/fs_fixture.h"

namespace runvm::vmm::virtio::fs::testing {
namespace {

TEST(FuseInit, NegotiatesMinorFlagsAndLimits) {
  TempDir d;
  auto fs = PassthroughFs::create(d.path());
  ASSERT_TRUE(fs.ok());
  FuseClient c(*fs);
  EXPECT_EQ(c.getattr(FUSE_ROOT_ID).error(), -EIO);  // nothing before INIT

  Reply r = c.init(/*minor=*/38, FUSE_ASYNC_READ | FUSE_POSIX_LOCKS | FUSE_DO_READDIRPLUS |
                                     FUSE_MAX_PAGES | FUSE_WRITEBACK_CACHE);
  ASSERT_EQ(r.error(), 0);
  ASSERT_EQ(r.body.size(), sizeof(fuse_init_out));
  auto o = r.as<fuse_init_out>();
  EXPECT_EQ(o.major, 7u);
  EXPECT_EQ(o.minor, FuseServer::kMaxMinor);
  // Only what both sides support: no POSIX locks, no writeback cache.
  EXPECT_EQ(o.flags, static_cast<uint32_t>(FUSE_ASYNC_READ | FUSE_DO_READDIRPLUS | FUSE_MAX_PAGES));
  EXPECT_EQ(o.max_write, 1u << 20);
  EXPECT_EQ(o.max_pages, 256u);
  EXPECT_LE(o.max_readahead, 128u * 1024);
  EXPECT_TRUE(c.server().initialized());
  EXPECT_EQ(c.getattr(FUSE_ROOT_ID).error(), 0);

  // An older guest gets its own minor and the old reply size.
  FuseClient old(*fs);
  Reply r2 = old.init(/*minor=*/20, 0);
  ASSERT_EQ(r2.error(), 0);
  EXPECT_EQ(r2.body.size(), static_cast<size_t>(FUSE_COMPAT_22_INIT_OUT_SIZE));
  EXPECT_EQ(r2.as<fuse_init_out>().minor, 20u);
}

TEST(FuseInit, RefusesAncientProtocolsAndAnswersNewerMajors) {
  TempDir d;
  auto fs = PassthroughFs::create(d.path());
  ASSERT_TRUE(fs.ok());
  FuseClient c(*fs);
  EXPECT_EQ(c.init(/*minor=*/5).error(), -EPROTO);
  EXPECT_FALSE(c.server().initialized());

  fuse_init_in in{};
  in.major = 8;
  Bytes b;
  put(&b, in);
  Reply r = c.call(FUSE_INIT, 0, b);
  ASSERT_EQ(r.error(), 0);
  EXPECT_EQ(r.as<fuse_init_out>().major, 7u);
  EXPECT_FALSE(c.server().initialized());  // the guest must retry with major 7

  EXPECT_EQ(c.call(FUSE_INIT, 0, Bytes(8)).error(), -EINVAL);  // body too short
}

TEST(FuseInit, DestroyEndsTheSession) {
  TempDir d;
  auto fs = PassthroughFs::create(d.path());
  ASSERT_TRUE(fs.ok());
  FuseClient c(*fs);
  ASSERT_EQ(c.init().error(), 0);
  EXPECT_EQ(c.call(FUSE_DESTROY, 0, {}).error(), 0);
  EXPECT_EQ(c.getattr(FUSE_ROOT_ID).error(), -EIO);
}

using FuseDecode = FsTest;

TEST_F(FuseDecode, LenFieldMustMatchTheBytesPresent) {
  fuse_in_header h{};
  h.opcode = FUSE_GETATTR;
  h.unique = 77;
  h.nodeid = FUSE_ROOT_ID;
  Bytes msg;
  put(&msg, h);
  put(&msg, fuse_getattr_in{});

  Bytes lying = msg;
  reinterpret_cast<fuse_in_header*>(lying.data())->len = static_cast<uint32_t>(msg.size() + 100);
  Reply r = c().raw(lying, 4096);
  EXPECT_EQ(r.error(), -EINVAL);
  EXPECT_EQ(r.hdr.unique, 77u);

  Bytes tiny = msg;
  reinterpret_cast<fuse_in_header*>(tiny.data())->len = 10;  // shorter than a header
  EXPECT_EQ(c().raw(tiny, 4096).error(), -EINVAL);

  // len shorter than the message: the body is cut to len and is too short.
  Bytes cut = msg;
  reinterpret_cast<fuse_in_header*>(cut.data())->len = sizeof(fuse_in_header) + 4;
  EXPECT_EQ(c().raw(cut, 4096).error(), -EINVAL);

  Bytes good = msg;
  reinterpret_cast<fuse_in_header*>(good.data())->len = static_cast<uint32_t>(msg.size());
  EXPECT_EQ(c().raw(good, 4096).error(), 0);
}

TEST_F(FuseDecode, TruncatedHeaderOrNoReplyRoomGetsNoReply) {
  Bytes half(sizeof(fuse_in_header) / 2, 0);
  EXPECT_EQ(c().raw(half, 4096).written, 0u);
  Bytes none;
  EXPECT_EQ(c().raw(none, 4096).written, 0u);
  // Room for less than a reply header: nothing is written.
  Bytes b;
  put(&b, fuse_getattr_in{});
  EXPECT_EQ(c().call(FUSE_GETATTR, FUSE_ROOT_ID, b, /*out_room=*/8).written, 0u);
  // Room for a header but not the attr reply: an error, and no side effect.
  EXPECT_EQ(c().call(FUSE_GETATTR, FUSE_ROOT_ID, b, sizeof(fuse_out_header)).error(), -EINVAL);
  size_t before = fs_->inode_count();
  EXPECT_EQ(c().call(
                   FUSE_MKDIR, FUSE_ROOT_ID,
                   [] {
                     Bytes m;
                     put(&m, fuse_mkdir_in{0755, 0});
                     put_str(&m, "d");
                     return m;
                   }(),
                   sizeof(fuse_out_header) + 8)
                .error(),
            -EINVAL);
  EXPECT_EQ(fs_->inode_count(), before);
  EXPECT_NE(::access(in_share("d").c_str(), F_OK), 0);
  // Likewise a WRITE whose reply cannot fit is not performed.
  Reply cr = c().create(FUSE_ROOT_ID, "w", O_RDWR);
  ASSERT_EQ(cr.error(), 0);
  fuse_write_in w{};
  w.fh = cr.as<fuse_open_out>(sizeof(fuse_entry_out)).fh;
  w.size = 3;
  Bytes wb;
  put(&wb, w);
  wb.insert(wb.end(), {'a', 'b', 'c'});
  EXPECT_EQ(
      c().call(FUSE_WRITE, cr.as<fuse_entry_out>().nodeid, wb, sizeof(fuse_out_header)).error(),
      -EINVAL);
  EXPECT_EQ(read_file(in_share("w")), "");
}

TEST_F(FuseDecode, EveryOpcodeSurvivesEmptyAndShortBodies) {
  for (uint32_t op = 1; op <= 52; ++op) {
    if (op == FUSE_INIT || op == FUSE_DESTROY) continue;
    for (size_t n : {0, 1, 3, 7, 15}) {
      Reply r = c().call(op, FUSE_ROOT_ID, Bytes(n, 0xff));
      if (op == FUSE_FORGET || op == FUSE_BATCH_FORGET) {
        EXPECT_EQ(r.written, 0u) << "op " << op;
        continue;
      }
      ASSERT_GE(r.written, sizeof(fuse_out_header)) << "op " << op << " len " << n;
      EXPECT_EQ(r.hdr.len, r.written);
      EXPECT_LE(r.error(), 0);
      // With no body only STATFS (which takes none) can succeed.
      if (n == 0 && op != FUSE_STATFS) {
        EXPECT_LT(r.error(), 0) << "op " << op;
      }
    }
  }
  EXPECT_EQ(c().getattr(FUSE_ROOT_ID).error(), 0);  // the server still works
}

TEST_F(FuseDecode, UnknownOpcodesAreENOSYS) {
  for (uint32_t op : std::initializer_list<uint32_t>{
           0u, 7u, 19u, FUSE_GETLK, FUSE_SETLK, FUSE_IOCTL, FUSE_POLL, FUSE_BMAP, FUSE_SETUPMAPPING,
           FUSE_TMPFILE, 999u, CUSE_INIT, 0xffffffffu}) {
    EXPECT_EQ(c().call(op, FUSE_ROOT_ID, Bytes(64, 0)).error(), -ENOSYS) << op;
  }
}

TEST_F(FuseDecode, NamesMustBeTerminatedSingleComponents) {
  Bytes unterminated = {'a', 'b', 'c'};
  EXPECT_EQ(c().call(FUSE_LOOKUP, FUSE_ROOT_ID, unterminated).error(), -EINVAL);
  EXPECT_EQ(c().lookup(FUSE_ROOT_ID, "").error(), -EINVAL);
  EXPECT_EQ(c().lookup(FUSE_ROOT_ID, "a/b").error(), -EINVAL);
  EXPECT_EQ(c().lookup(FUSE_ROOT_ID, "/etc").error(), -EINVAL);
  EXPECT_EQ(c().lookup(FUSE_ROOT_ID, std::string(256, 'x')).error(), -ENAMETOOLONG);
  EXPECT_TRUE(FuseClient::missing(c().lookup(FUSE_ROOT_ID, std::string(255, 'x'))));
  EXPECT_EQ(c().mkdir(FUSE_ROOT_ID, "..").error(), -EINVAL);
  EXPECT_EQ(c().mkdir(FUSE_ROOT_ID, ".").error(), -EINVAL);
  EXPECT_EQ(c().create(FUSE_ROOT_ID, "x/y", O_RDWR).error(), -EINVAL);
  EXPECT_EQ(c().name_op(FUSE_UNLINK, FUSE_ROOT_ID, "..").error(), -EINVAL);
  EXPECT_EQ(c().name_op(FUSE_RMDIR, FUSE_ROOT_ID, "../outside").error(), -EINVAL);

  // RENAME: second name missing its NUL.
  Bytes b;
  put(&b, fuse_rename_in{FUSE_ROOT_ID});
  put_str(&b, "a");
  b.push_back('b');
  EXPECT_EQ(c().call(FUSE_RENAME, FUSE_ROOT_ID, b).error(), -EINVAL);

  // SYMLINK: target missing its NUL; target too long.
  Bytes s;
  put_str(&s, "l");
  s.push_back('t');
  EXPECT_EQ(c().call(FUSE_SYMLINK, FUSE_ROOT_ID, s).error(), -EINVAL);
  Bytes s2;
  put_str(&s2, "l");
  put_str(&s2, std::string(5000, 'a'));
  EXPECT_EQ(c().call(FUSE_SYMLINK, FUSE_ROOT_ID, s2).error(), -ENAMETOOLONG);
}

TEST_F(FuseDecode, SizesAreBoundedAndLiesRejected) {
  Reply cr = c().create(FUSE_ROOT_ID, "f", O_RDWR);
  ASSERT_EQ(cr.error(), 0);
  uint64_t node = cr.as<fuse_entry_out>().nodeid;
  uint64_t fh = cr.as<fuse_open_out>(sizeof(fuse_entry_out)).fh;

  // WRITE claiming more data than the message carries.
  fuse_write_in w{};
  w.fh = fh;
  w.size = 1000;
  Bytes b;
  put(&b, w);
  b.resize(b.size() + 10);
  EXPECT_EQ(c().call(FUSE_WRITE, node, b).error(), -EINVAL);
  // Offsets that overflow.
  w.size = 10;
  w.offset = ~0ull - 2;
  Bytes b2;
  put(&b2, w);
  b2.resize(b2.size() + 10);
  EXPECT_EQ(c().call(FUSE_WRITE, node, b2).error(), -EINVAL);
  fuse_read_in rd{};
  rd.fh = fh;
  rd.offset = ~0ull;
  rd.size = 10;
  Bytes b3;
  put(&b3, rd);
  EXPECT_EQ(c().call(FUSE_READ, node, b3).error(), -EINVAL);

  // A huge READ is capped by the reply room, not trusted.
  ASSERT_EQ(c().write(node, fh, 0, std::string(100, 'z')).error(), 0);
  Reply big = c().read(node, fh, 0, 0xffffffff);
  EXPECT_EQ(big.error(), 0);
  EXPECT_EQ(big.body.size(), 100u);
  Reply small = c().call(
      FUSE_READ, node,
      [&] {
        Bytes m;
        fuse_read_in x{};
        x.fh = fh;
        x.size = 4096;
        put(&m, x);
        return m;
      }(),
      sizeof(fuse_out_header) + 7);
  EXPECT_EQ(small.error(), 0);
  EXPECT_EQ(small.body.size(), 7u);

  // Oversized non-WRITE bodies are refused before being copied.
  Bytes huge(FuseServer::kMaxBody + 1, 'a');
  EXPECT_EQ(c().call(FUSE_LOOKUP, FUSE_ROOT_ID, huge).error(), -E2BIG);

  // SETXATTR whose value size lies.
  fuse_setxattr_in sx{};
  sx.size = 500;
  Bytes b4;
  b4.insert(b4.end(), reinterpret_cast<uint8_t*>(&sx), reinterpret_cast<uint8_t*>(&sx) + 8);
  put_str(&b4, "user.x");
  b4.resize(b4.size() + 20);
  EXPECT_EQ(c().call(FUSE_SETXATTR, node, b4).error(), -EINVAL);

  // RENAME2 with unknown flags.
  fuse_rename2_in rn{};
  rn.newdir = FUSE_ROOT_ID;
  rn.flags = 0x80;
  Bytes b5;
  put(&b5, rn);
  put_str(&b5, "f");
  put_str(&b5, "g");
  EXPECT_EQ(c().call(FUSE_RENAME2, FUSE_ROOT_ID, b5).error(), -EINVAL);
}

TEST_F(FuseDecode, BatchForgetWithLyingCountChangesNothing) {
  uint64_t before = fs_->inode_count();
  ASSERT_EQ(c().mkdir(FUSE_ROOT_ID, "d").error(), 0);
  uint64_t node = c().node_of(FUSE_ROOT_ID, "d");  // 2 lookups now
  ASSERT_NE(node, 0u);
  EXPECT_EQ(fs_->inode_count(), before + 1);
  fuse_batch_forget_in bf{};
  bf.count = 1000;  // only one entry follows
  Bytes b;
  put(&b, bf);
  put(&b, fuse_forget_one{node, 2});
  EXPECT_EQ(c().call(FUSE_BATCH_FORGET, 0, b).written, 0u);
  EXPECT_EQ(fs_->inode_count(), before + 1);
  bf.count = 1;
  Bytes ok;
  put(&ok, bf);
  put(&ok, fuse_forget_one{node, 2});
  c().call(FUSE_BATCH_FORGET, 0, ok);
  EXPECT_EQ(fs_->inode_count(), before);
}

TEST_F(FuseDecode, ScatteredRequestAndReplyBuffers) {
  Reply cr = c().create(FUSE_ROOT_ID, "f", O_RDWR);
  ASSERT_EQ(cr.error(), 0);
  uint64_t node = cr.as<fuse_entry_out>().nodeid;
  uint64_t fh = cr.as<fuse_open_out>(sizeof(fuse_entry_out)).fh;
  std::string data(10000, 'q');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>('a' + i % 26);
  fuse_write_in w{};
  w.fh = fh;
  w.size = static_cast<uint32_t>(data.size());
  Bytes b;
  put(&b, w);
  b.insert(b.end(), data.begin(), data.end());
  Reply wr = c().call(FUSE_WRITE, node, b, 4096, /*in_chunk=*/7, /*out_chunk=*/3);
  ASSERT_EQ(wr.error(), 0);
  EXPECT_EQ(wr.as<fuse_write_out>().size, data.size());

  fuse_read_in rd{};
  rd.fh = fh;
  rd.size = static_cast<uint32_t>(data.size());
  Bytes rb;
  put(&rb, rd);
  Reply rr = c().call(FUSE_READ, node, rb, 20000, /*in_chunk=*/5, /*out_chunk=*/13);
  ASSERT_EQ(rr.error(), 0);
  EXPECT_EQ(std::string(rr.body.begin(), rr.body.end()), data);
  EXPECT_EQ(rr.hdr.len, sizeof(fuse_out_header) + data.size());
}

}  // namespace
}  // namespace runvm::vmm::virtio::fs::testing
