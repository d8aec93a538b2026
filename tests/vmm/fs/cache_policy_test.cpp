// Cache modes and writeback as the guest sees them: the timeouts in LOOKUP/CREATE replies,
// the FOPEN_* flags of OPEN/CREATE/OPENDIR, FUSE_WRITEBACK_CACHE in INIT, and how a
// writeback share opens host files (readable, no O_APPEND).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/fuse.h>

#include <string>

#include "tests/vmm/fs/fs_fixture.h"
#include "vmm/devices/virtio/fs/cache_policy.h"
#include "vmm/devices/virtio/fs/open_share.h"

namespace runvm::vmm::virtio::fs::testing {
namespace {

class CachePolicyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    share_ = tmp_ / "share";
    ASSERT_EQ(::mkdir(share_.c_str(), 0755), 0);
    ASSERT_EQ(::mkdir((share_ + "/dir").c_str(), 0755), 0);
    write_file(share_ + "/file", "hello");
  }
  // A client of a share opened as runvm-vmm opens it for `--fs ...:cache=MODE[:writeback]`.
  std::unique_ptr<FuseClient> serve(CachePolicy cache, uint32_t guest_flags = 0xffffffff) {
    ShareOptions opts;
    opts.cache = cache;
    auto fs = open_share(share_, opts);
    EXPECT_TRUE(fs.ok()) << fs.error().what();
    FuseServerOptions server;
    server.cache = cache;
    auto c = std::make_unique<FuseClient>(*fs, server);
    init_ = c->init(31, guest_flags);
    EXPECT_EQ(init_.error(), 0);
    return c;
  }
  uint64_t open_fh(FuseClient& c, const std::string& name, uint32_t flags) {
    Reply r = c.open(c.node_of(FUSE_ROOT_ID, name), flags);
    EXPECT_EQ(r.error(), 0) << name;
    return r.as<fuse_open_out>().fh;
  }

  TempDir tmp_;
  std::string share_;
  Reply init_;
};

TEST_F(CachePolicyTest, EachModeSetsTimeoutsAndOpenFlags) {
  struct Want {
    CacheMode mode;
    uint64_t valid_s;
    uint32_t open_flags, dir_flags;
  };
  for (const Want& w :
       {Want{CacheMode::None, 0, FOPEN_DIRECT_IO, 0}, Want{CacheMode::Auto, 1, 0, 0},
        Want{CacheMode::Always, 86400, FOPEN_KEEP_CACHE, FOPEN_KEEP_CACHE | FOPEN_CACHE_DIR}}) {
    SCOPED_TRACE(cache_mode_name(w.mode));
    auto c = serve({w.mode, false});
    auto e = c->lookup(FUSE_ROOT_ID, "file").as<fuse_entry_out>();
    EXPECT_EQ(e.entry_valid, w.valid_s);
    EXPECT_EQ(e.attr_valid, w.valid_s);
    EXPECT_EQ(e.entry_valid_nsec, 0u);
    EXPECT_EQ(c->getattr(e.nodeid).as<fuse_attr_out>().attr_valid, w.valid_s);

    Reply o = c->open(e.nodeid, O_RDONLY);
    ASSERT_EQ(o.error(), 0);
    EXPECT_EQ(o.as<fuse_open_out>().open_flags, w.open_flags);
    Reply cr = c->create(FUSE_ROOT_ID, std::string("new-") + cache_mode_name(w.mode), O_RDWR);
    ASSERT_EQ(cr.error(), 0);
    EXPECT_EQ(cr.as<fuse_entry_out>().entry_valid, w.valid_s);
    EXPECT_EQ(cr.as<fuse_open_out>(sizeof(fuse_entry_out)).open_flags, w.open_flags);
    Reply d = c->opendir(c->node_of(FUSE_ROOT_ID, "dir"));
    ASSERT_EQ(d.error(), 0);
    EXPECT_EQ(d.as<fuse_open_out>().open_flags, w.dir_flags);
  }
}

TEST_F(CachePolicyTest, MissingNamesAreCachedAsLongAsNames) {
  // none: ENOENT, asked again every time; auto/always: a negative entry (node id 0) with the
  // mode's timeout.
  EXPECT_EQ(serve({CacheMode::None, false})->lookup(FUSE_ROOT_ID, "nope").error(), -ENOENT);
  for (auto [mode, valid_s] : {std::pair{CacheMode::Auto, 1u}, {CacheMode::Always, 86400u}}) {
    Reply r = serve({mode, false})->lookup(FUSE_ROOT_ID, "nope");
    ASSERT_EQ(r.error(), 0) << cache_mode_name(mode);
    EXPECT_EQ(r.as<fuse_entry_out>().nodeid, 0u);
    EXPECT_EQ(r.as<fuse_entry_out>().entry_valid, valid_s);
    EXPECT_EQ(r.as<fuse_entry_out>().attr_valid, 0u);
  }
}

TEST_F(CachePolicyTest, OnlyNoneAsksForAFlushAtEveryClose) {
  for (auto [mode, want] :
       {std::pair{CacheMode::None, 0}, {CacheMode::Auto, -ENOSYS}, {CacheMode::Always, -ENOSYS}}) {
    auto c = serve({mode, false});
    uint64_t fh = open_fh(*c, "file", O_RDONLY);
    fuse_flush_in in{};
    in.fh = fh;
    Bytes b;
    put(&b, in);
    EXPECT_EQ(c->call(FUSE_FLUSH, c->node_of(FUSE_ROOT_ID, "file"), b).error(), want)
        << cache_mode_name(mode);
  }
}

TEST_F(CachePolicyTest, WritebackIsOfferedOnlyWhenConfiguredAndAsked) {
  serve({CacheMode::Auto, true});
  EXPECT_TRUE(init_.as<fuse_init_out>().flags & FUSE_WRITEBACK_CACHE);
  serve({CacheMode::Auto, true}, 0xffffffff & ~FUSE_WRITEBACK_CACHE);
  EXPECT_FALSE(init_.as<fuse_init_out>().flags & FUSE_WRITEBACK_CACHE);
  serve({CacheMode::Always, false});
  EXPECT_FALSE(init_.as<fuse_init_out>().flags & FUSE_WRITEBACK_CACHE);
}

TEST_F(CachePolicyTest, WritebackOpensWriteOnlyFilesReadableForTheGuestsReadAround) {
  auto wb = serve({CacheMode::Auto, true});
  uint64_t fh = open_fh(*wb, "file", O_WRONLY);
  EXPECT_EQ(wb->read_str(wb->node_of(FUSE_ROOT_ID, "file"), fh, 0, 64), "hello");

  auto plain = serve({CacheMode::Auto, false});
  fh = open_fh(*plain, "file", O_WRONLY);
  EXPECT_EQ(plain->read(plain->node_of(FUSE_ROOT_ID, "file"), fh, 0, 64).error(), -EBADF);
}

TEST_F(CachePolicyTest, WritebackWritesLandAtTheGuestsOffsetDespiteOAppend) {
  // The guest's page cache places appends itself (at the size it keeps) and writes at
  // explicit offsets; a host O_APPEND would move a rewrite of the first page to the end.
  auto wb = serve({CacheMode::Auto, true});
  uint64_t node = wb->node_of(FUSE_ROOT_ID, "file");
  uint64_t fh = open_fh(*wb, "file", O_WRONLY | O_APPEND);
  ASSERT_EQ(wb->write(node, fh, 0, "J").error(), 0);
  EXPECT_EQ(read_file(share_ + "/file"), "Jello");

  // Without writeback the guest relies on the host's O_APPEND, as a local file would.
  auto plain = serve({CacheMode::Auto, false});
  node = plain->node_of(FUSE_ROOT_ID, "file");
  fh = open_fh(*plain, "file", O_WRONLY | O_APPEND);
  ASSERT_EQ(plain->write(node, fh, 0, "!").error(), 0);
  EXPECT_EQ(read_file(share_ + "/file"), "Jello!");
}

TEST_F(CachePolicyTest, StatsCountRequestsByOpcode) {
  // The per-opcode counts show what a cache mode saves (docs/performance.md).
  auto c = serve({CacheMode::Auto, false});
  c->lookup(FUSE_ROOT_ID, "file");
  c->lookup(FUSE_ROOT_ID, "nope");
  c->getattr(c->node_of(FUSE_ROOT_ID, "dir"));
  std::string s = c->server().stats().summary();
  EXPECT_NE(s.find("LOOKUP=3/"), std::string::npos) << s;
  EXPECT_NE(s.find("GETATTR=1/"), std::string::npos) << s;
  EXPECT_NE(s.find("INIT=1/"), std::string::npos) << s;
  EXPECT_EQ(s.find("WRITE"), std::string::npos) << s;
  EXPECT_EQ(RequestStats().summary(), "");
  EXPECT_EQ(fuse_opcode_name(FUSE_READDIRPLUS), "READDIRPLUS");
  EXPECT_EQ(fuse_opcode_name(63), "OP63");
}

}  // namespace
}  // namespace runvm::vmm::virtio::fs::testing
