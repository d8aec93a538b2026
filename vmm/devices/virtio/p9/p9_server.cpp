#include "vmm/devices/virtio/p9/p9_server.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/fuse.h>
#include <linux/limits.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace runvm::vmm::virtio::p9 {

namespace {

// 9P2000.L message types.
enum : uint8_t {
  kRlerror = 7,
  kTstatfs = 8,
  kTlopen = 12,
  kTlcreate = 14,
  kTsymlink = 16,
  kTmknod = 18,
  kTrename = 20,
  kTreadlink = 22,
  kTgetattr = 24,
  kTsetattr = 26,
  kTxattrwalk = 30,
  kTxattrcreate = 32,
  kTreaddir = 40,
  kTfsync = 50,
  kTlock = 52,
  kTgetlock = 54,
  kTlink = 70,
  kTmkdir = 72,
  kTrenameat = 74,
  kTunlinkat = 76,
  kTversion = 100,
  kTattach = 104,
  kTflush = 108,
  kTwalk = 110,
  kTread = 116,
  kTwrite = 118,
  kTclunk = 120,
  kTremove = 122,
};

constexpr size_t kHdr = 7;  // size[4] type[1] tag[2]
constexpr uint32_t kNoFid = 0xffffffff;
constexpr uint32_t kXattrMax = 65536;
constexpr uint32_t kAtRemoveDir = 0x200;

// Tsetattr valid bits.
constexpr uint32_t kSetMode = 0x1, kSetUid = 0x2, kSetGid = 0x4, kSetSize = 0x8, kSetAtime = 0x10,
                   kSetMtime = 0x20, kSetAtimeSet = 0x80, kSetMtimeSet = 0x100;
constexpr uint64_t kGetattrBasic = 0x7ff;

// Little-endian cursor over a message body copied out of guest memory. Any
// short read clears ok(); values read after that are zero.
class In {
 public:
  explicit In(std::span<const uint8_t> d) : d_(d) {}
  bool ok() const { return ok_; }
  size_t remaining() const { return d_.size() - pos_; }
  uint8_t u8() { return static_cast<uint8_t>(take(1)); }
  uint16_t u16() { return static_cast<uint16_t>(take(2)); }
  uint32_t u32() { return static_cast<uint32_t>(take(4)); }
  uint64_t u64() { return take(8); }
  std::string_view str() {
    uint16_t n = u16();
    if (!ok_ || remaining() < n) {
      ok_ = false;
      return {};
    }
    std::string_view s(reinterpret_cast<const char*>(d_.data() + pos_), n);
    pos_ += n;
    return s;
  }

 private:
  uint64_t take(size_t n) {
    if (!ok_ || remaining() < n) {
      ok_ = false;
      return 0;
    }
    uint64_t v = 0;
    for (size_t i = 0; i < n; ++i) v |= static_cast<uint64_t>(d_[pos_ + i]) << (8 * i);
    pos_ += n;
    return v;
  }
  std::span<const uint8_t> d_;
  size_t pos_ = 0;
  bool ok_ = true;
};

class Out {
 public:
  std::vector<uint8_t> b;
  void u8(uint8_t v) { b.push_back(v); }
  void u16(uint16_t v) { put(v, 2); }
  void u32(uint32_t v) { put(v, 4); }
  void u64(uint64_t v) { put(v, 8); }
  void str(std::string_view s) {
    u16(static_cast<uint16_t>(std::min<size_t>(s.size(), 0xffff)));
    b.insert(b.end(), s.begin(), s.begin() + std::min<size_t>(s.size(), 0xffff));
  }
  // `path` from QidPaths: st_ino made unique across host filesystems.
  void qid(const struct stat& st, uint64_t path) {
    u8(S_ISDIR(st.st_mode) ? 0x80 : S_ISLNK(st.st_mode) ? 0x02 : 0);
    u32(0);
    u64(path);
  }

 private:
  void put(uint64_t v, size_t n) {
    for (size_t i = 0; i < n; ++i) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
  }
};

// A single path component; "." and ".." only where a walk allows them.
bool valid_name(std::string_view n, bool walk) {
  if (n.empty() || n.size() > NAME_MAX) return false;
  if (n.find('/') != std::string_view::npos || n.find('\0') != std::string_view::npos) return false;
  return walk || (n != "." && n != "..");
}

uint32_t fuse_encode_dev(uint32_t ma, uint32_t mi) {
  return (mi & 0xff) | ((ma & 0xfff) << 8) | ((mi & ~0xffu) << 12);
}

}  // namespace

struct P9Server::Fid {
  Fid(uint64_t n, uint32_t u) : node(n), uid(u) {}
  const uint64_t node;  // holds one lookup count
  const uint32_t uid;   // n_uname from attach, inherited by walks
  std::mutex m;         // guards everything below
  bool open = false;
  bool dir = false;
  uint64_t fh = 0;
  enum class X { None, Read, Write } xattr = X::None;
  std::vector<uint8_t> xbuf;
  std::string xname;
  uint64_t xsize = 0;
  uint32_t xflags = 0;
  size_t xcharged = 0;  // taken from the server's xattr budget, given back by drop_fid
};

struct P9Server::Msg {
  uint8_t type = 0;
  uint16_t tag = 0;
  fs::FuseReader* reader = nullptr;
  fs::FuseWriter* out = nullptr;
  std::vector<uint8_t> body_buf;
  In in{{}};

  size_t reply(Out& body) {
    size_t len = kHdr + body.b.size();
    if (len > out->remaining() || len > 0xffffffffu) return error(ENOBUFS);
    uint8_t h[kHdr];
    uint32_t l = static_cast<uint32_t>(len);
    std::memcpy(h, &l, 4);
    h[4] = static_cast<uint8_t>(type + 1);
    std::memcpy(h + 5, &tag, 2);
    if (!out->write(h, kHdr) || !out->write(body.b.data(), body.b.size())) return 0;
    return len;
  }
  size_t reply_empty() {
    Out o;
    return reply(o);
  }
  size_t error(int e) {
    e = std::abs(e);
    if (e == 0 || e >= 4096) e = EIO;
    uint8_t m[kHdr + 4];
    uint32_t l = sizeof(m);
    std::memcpy(m, &l, 4);
    m[4] = kRlerror;
    std::memcpy(m + 5, &tag, 2);
    uint32_t ec = static_cast<uint32_t>(e);
    std::memcpy(m + 7, &ec, 4);
    return out->write(m, sizeof(m)) ? sizeof(m) : 0;
  }
};

P9Server::P9Server(std::shared_ptr<fs::FileSystem> fs, uint32_t max_msize)
    : fs_(std::move(fs)), max_msize_(std::max(max_msize, kMinMsize)) {}

P9Server::~P9Server() {
  clunk_all();
}

size_t P9Server::fid_count() const {
  std::lock_guard lk(mu_);
  return fids_.size();
}

std::shared_ptr<P9Server::Fid> P9Server::get_fid(uint32_t fid) const {
  std::lock_guard lk(mu_);
  auto it = fids_.find(fid);
  return it == fids_.end() ? nullptr : it->second;
}

bool P9Server::add_fid(uint32_t fid, std::shared_ptr<Fid> f) {
  std::lock_guard lk(mu_);
  if (fid == kNoFid || fids_.size() >= kMaxFids || fids_.count(fid)) return false;
  fids_[fid] = std::move(f);
  return true;
}

// Gives back what a fid held: its open handle and its lookup count.
void P9Server::drop_fid(const std::shared_ptr<Fid>& f) {
  fs::Context ctx{f->uid, 0, 0};
  std::lock_guard lk(f->m);
  if (f->open) {
    if (f->dir)
      (void)fs_->releasedir(ctx, f->node, f->fh);
    else
      (void)fs_->release(ctx, f->node, f->fh);
    f->open = false;
  }
  xattr_bytes_ -= f->xcharged;
  f->xcharged = 0;
  f->xattr = Fid::X::None;  // a request still holding the fid finds no buffer
  std::vector<uint8_t>().swap(f->xbuf);
  fs_->forget(f->node, 1);
}

bool P9Server::take_xattr_bytes(size_t n) {
  size_t cur = xattr_bytes_.load();
  do {
    if (n > kMaxXattrBytes - cur) return false;
  } while (!xattr_bytes_.compare_exchange_weak(cur, cur + n));
  return true;
}

void P9Server::clunk_all() {
  std::unordered_map<uint32_t, std::shared_ptr<Fid>> old;
  {
    std::lock_guard lk(mu_);
    old.swap(fids_);
  }
  for (auto& [id, f] : old) drop_fid(f);
}

size_t P9Server::handle(fs::FuseReader& in, fs::FuseWriter& out) {
  Msg m;
  m.reader = &in;
  m.out = &out;
  uint8_t h[kHdr];
  if (!in.read(h, kHdr)) return 0;
  uint32_t size;
  std::memcpy(&size, h, 4);
  m.type = h[4];
  std::memcpy(&m.tag, h + 5, 2);
  if (out.remaining() < kHdr + 4) return 0;  // not even an Rlerror fits
  if (size < kHdr || size - kHdr > in.remaining()) return m.error(EINVAL);
  uint32_t msize = msize_.load();
  if (m.type != kTversion && msize == 0) return m.error(EPROTO);  // Tversion comes first
  if (msize != 0 && size > msize) return m.error(EMSGSIZE);
  in.limit(size - kHdr);
  if (m.type == kTwrite) return do_write(m);
  if (in.remaining() > std::max(msize, kMinMsize)) return m.error(EMSGSIZE);
  m.body_buf.resize(in.remaining());
  if (!in.read(m.body_buf.data(), m.body_buf.size())) return m.error(EINVAL);
  m.in = In(m.body_buf);
  // Operations with side effects only run when their reply fits, so a lookup
  // count or a created file is never lost for want of room.
  size_t need = kHdr;
  switch (m.type) {
    case kTattach:
    case kTmkdir:
    case kTsymlink:
    case kTmknod:
      need += 13;
      break;
    case kTlopen:
    case kTlcreate:
      need += 13 + 4;
      break;
    case kTxattrwalk:
      need += 8;
      break;
    case kTwalk: {
      // Room for one qid per name asked for: the Linux client sizes the Rwalk
      // buffer by nwname (a clone, nwname 0, gets only 11 bytes).
      uint16_t nwname = 0;
      if (m.body_buf.size() >= 10) std::memcpy(&nwname, m.body_buf.data() + 8, 2);
      need += 2 + 13 * size_t{std::min<uint16_t>(nwname, kMaxWalkNames)};
      break;
    }
    default:
      break;
  }
  if (out.remaining() < need) return m.error(ENOBUFS);
  return dispatch(m);
}

size_t P9Server::dispatch(Msg& m) {
  switch (m.type) {
    case kTversion:
      return do_version(m);
    case kTattach:
      return do_attach(m);
    case kTwalk:
      return do_walk(m);
    case kTlopen:
      return do_lopen(m);
    case kTlcreate:
      return do_lcreate(m);
    case kTread:
      return do_read(m);
    case kTclunk:
      return do_clunk(m, false);
    case kTremove:
      return do_clunk(m, true);
    case kTgetattr:
      return do_getattr(m);
    case kTsetattr:
      return do_setattr(m);
    case kTreaddir:
      return do_readdir(m);
    case kTxattrwalk:
      return do_xattrwalk(m);
    case kTxattrcreate:
      return do_xattrcreate(m);
    case kTmkdir:
    case kTsymlink:
    case kTmknod:
      return do_create_node(m);
    case kTrenameat:
    case kTunlinkat:
    case kTlink:
    case kTrename:
      return do_namespace(m);
    case kTstatfs:
    case kTreadlink:
    case kTfsync:
    case kTlock:
    case kTgetlock:
    case kTflush:
      return do_misc(m);
    default:
      return m.error(EOPNOTSUPP);  // Tauth, legacy 9P2000 messages, garbage
  }
}

size_t P9Server::do_version(Msg& m) {
  uint32_t want = m.in.u32();
  std::string_view version = m.in.str();
  if (!m.in.ok()) return m.error(EINVAL);
  if (want < kMinMsize) return m.error(EINVAL);
  // A new session: every fid of the old one is clunked.
  clunk_all();
  Out o;
  uint32_t msize = std::min(want, max_msize_);
  o.u32(msize);
  if (version.substr(0, 8) == "9P2000.L") {
    msize_.store(msize);
    o.str("9P2000.L");
  } else {
    msize_.store(0);
    o.str("unknown");
  }
  return m.reply(o);
}

size_t P9Server::do_attach(Msg& m) {
  uint32_t fid = m.in.u32();
  uint32_t afid = m.in.u32();
  (void)m.in.str();  // uname
  (void)m.in.str();  // aname: one share per device, so it is not interpreted
  uint32_t n_uname = m.in.u32();
  if (!m.in.ok()) return m.error(EINVAL);
  if (afid != kNoFid) return m.error(EOPNOTSUPP);  // no authentication
  fs::Context ctx{n_uname, 0, 0};
  fs::Entry e;
  if (int rc = fs_->lookup(ctx, FUSE_ROOT_ID, ".", &e); rc < 0) return m.error(rc);
  if (!add_fid(fid, std::make_shared<Fid>(e.node, n_uname))) {
    fs_->forget(e.node, 1);
    return m.error(EBADF);
  }
  Out o;
  o.qid(e.attr, qids_.path(e.attr.st_dev, e.attr.st_ino));
  return m.reply(o);
}

size_t P9Server::do_walk(Msg& m) {
  uint32_t fid = m.in.u32();
  uint32_t newfid = m.in.u32();
  uint16_t n = m.in.u16();
  if (!m.in.ok() || n > kMaxWalkNames) return m.error(EINVAL);
  std::vector<std::string_view> names;
  for (uint16_t i = 0; i < n; ++i) {
    names.push_back(m.in.str());
    if (!m.in.ok()) return m.error(EINVAL);
    if (!valid_name(names.back(), true)) return m.error(EINVAL);
  }
  auto f = get_fid(fid);
  if (!f) return m.error(EBADF);
  if (newfid != fid && get_fid(newfid)) return m.error(EBADF);
  if (newfid == fid) {
    // 9P: a walk that replaces fid needs a fid not opened for I/O; replacing it would close
    // the guest's open file behind its back.
    std::lock_guard lk(f->m);
    if (f->open || f->xattr != Fid::X::None) return m.error(EBADF);
  }
  fs::Context ctx{f->uid, 0, 0};

  Out o;
  o.u16(0);  // patched below
  uint64_t cur = f->node;
  bool counted = false;  // whether we hold a lookup count of cur
  size_t walked = 0;
  int first_err = 0;
  for (std::string_view name : names) {
    fs::Entry e;
    int rc = fs_->lookup(ctx, cur, name, &e);
    if (rc < 0) {
      first_err = rc;
      break;
    }
    if (counted) fs_->forget(cur, 1);
    cur = e.node;
    counted = true;
    o.qid(e.attr, qids_.path(e.attr.st_dev, e.attr.st_ino));
    ++walked;
  }
  if (walked < names.size()) {
    if (counted) fs_->forget(cur, 1);
    if (walked == 0) return m.error(first_err);
    o.b[0] = static_cast<uint8_t>(walked);  // partial walk: newfid is not created
    o.b[1] = 0;
    return m.reply(o);
  }
  if (!counted && !fs_->add_ref(cur)) return m.error(ENOENT);
  auto nf = std::make_shared<Fid>(cur, f->uid);
  if (newfid == fid) {
    std::shared_ptr<Fid> old;
    {
      std::lock_guard lk(mu_);
      auto it = fids_.find(fid);
      if (it != fids_.end()) {
        old = std::move(it->second);
        it->second = nf;
      }
    }
    if (!old) {
      fs_->forget(cur, 1);
      return m.error(EBADF);
    }
    drop_fid(old);
  } else if (!add_fid(newfid, nf)) {
    fs_->forget(cur, 1);
    return m.error(EBADF);
  }
  o.b[0] = static_cast<uint8_t>(walked);
  o.b[1] = 0;
  return m.reply(o);
}

size_t P9Server::do_lopen(Msg& m) {
  uint32_t fid = m.in.u32();
  uint32_t flags = m.in.u32();
  if (!m.in.ok()) return m.error(EINVAL);
  auto f = get_fid(fid);
  if (!f) return m.error(EBADF);
  fs::Context ctx{f->uid, 0, 0};
  struct stat st {};
  if (int rc = fs_->getattr(ctx, f->node, std::nullopt, &st); rc < 0) return m.error(rc);
  std::lock_guard lk(f->m);
  if (f->open || f->xattr != Fid::X::None) return m.error(EBADF);
  uint64_t fh = 0;
  uint32_t of = 0;
  bool dir = S_ISDIR(st.st_mode);
  int rc = dir ? fs_->opendir(ctx, f->node, flags, &fh) : fs_->open(ctx, f->node, flags, &fh, &of);
  if (rc < 0) return m.error(rc);
  f->open = true;
  f->dir = dir;
  f->fh = fh;
  Out o;
  o.qid(st, qids_.path(st.st_dev, st.st_ino));
  o.u32(msize_.load() - 24);  // iounit
  return m.reply(o);
}

size_t P9Server::do_lcreate(Msg& m) {
  uint32_t fid = m.in.u32();
  std::string_view name = m.in.str();
  uint32_t flags = m.in.u32();
  uint32_t mode = m.in.u32();
  uint32_t gid = m.in.u32();
  if (!m.in.ok() || !valid_name(name, false)) return m.error(EINVAL);
  auto f = get_fid(fid);
  if (!f) return m.error(EBADF);
  fs::Context ctx{f->uid, gid, 0};
  fs::Entry e;
  uint64_t fh = 0;
  uint32_t of = 0;
  int rc =
      fs_->create(ctx, f->node, name, (mode & 07777) | S_IFREG, flags | O_CREAT, 0, &e, &fh, &of);
  if (rc < 0) return m.error(rc);
  // The fid now stands for the new, open file.
  auto nf = std::make_shared<Fid>(e.node, f->uid);
  nf->open = true;
  nf->fh = fh;
  std::shared_ptr<Fid> old;
  {
    std::lock_guard lk(mu_);
    auto it = fids_.find(fid);
    if (it != fids_.end() && it->second == f) {
      old = std::move(it->second);
      it->second = nf;
    }
  }
  if (!old) {  // clunked meanwhile
    drop_fid(nf);
    return m.error(EBADF);
  }
  drop_fid(old);
  Out o;
  o.qid(e.attr, qids_.path(e.attr.st_dev, e.attr.st_ino));
  o.u32(msize_.load() - 24);
  return m.reply(o);
}

size_t P9Server::do_read(Msg& m) {
  uint32_t fid = m.in.u32();
  uint64_t offset = m.in.u64();
  uint32_t count = m.in.u32();
  if (!m.in.ok()) return m.error(EINVAL);
  auto f = get_fid(fid);
  if (!f) return m.error(EBADF);
  const size_t room = std::min<size_t>(m.out->remaining(), msize_.load());
  if (room < kHdr + 4) return m.error(ENOBUFS);
  size_t n = std::min<size_t>(count, room - kHdr - 4);
  std::vector<uint8_t> xdata;
  bool xattr_read = false;  // taken under f->m: a concurrent Txattrcreate may change it
  {
    std::lock_guard lk(f->m);
    xattr_read = f->xattr == Fid::X::Read;
    if (xattr_read) {
      size_t off = std::min<uint64_t>(offset, f->xbuf.size());
      n = std::min(n, f->xbuf.size() - off);
      xdata.assign(f->xbuf.begin() + off, f->xbuf.begin() + off + n);
    } else if (!f->open || f->dir) {
      return m.error(EBADF);
    }
  }
  if (offset > static_cast<uint64_t>(INT64_MAX) || n > static_cast<uint64_t>(INT64_MAX) - offset)
    return m.error(EINVAL);
  const size_t start = m.out->written();
  uint8_t h[kHdr + 4] = {};
  if (!m.out->write(h, sizeof(h))) return 0;
  int64_t got;
  if (xattr_read) {
    got = m.out->write(xdata.data(), xdata.size()) ? static_cast<int64_t>(xdata.size()) : 0;
  } else {
    std::vector<iovec> dst = m.out->iovecs(n);
    got = fs_->read(fs::Context{f->uid, 0, 0}, f->node, f->fh, offset, dst);
    if (got > 0) m.out->advance(std::min<size_t>(static_cast<size_t>(got), n));
  }
  if (got < 0) {
    // Nothing but the placeholder was written: overwrite it with Rlerror.
    uint8_t e[kHdr + 4];
    uint32_t l = sizeof(e), ec = static_cast<uint32_t>(-got);
    std::memcpy(e, &l, 4);
    e[4] = kRlerror;
    std::memcpy(e + 5, &m.tag, 2);
    std::memcpy(e + 7, &ec, 4);
    return m.out->write_at(start, e, sizeof(e)) ? sizeof(e) : 0;
  }
  uint32_t total = static_cast<uint32_t>(m.out->written() - start);
  uint32_t cnt = total - kHdr - 4;
  std::memcpy(h, &total, 4);
  h[4] = kTread + 1;
  std::memcpy(h + 5, &m.tag, 2);
  std::memcpy(h + 7, &cnt, 4);
  return m.out->write_at(start, h, sizeof(h)) ? total : 0;
}

size_t P9Server::do_write(Msg& m) {
  uint8_t hb[16];
  if (!m.reader->read(hb, sizeof(hb))) return m.error(EINVAL);
  In in(hb);
  uint32_t fid = in.u32();
  uint64_t offset = in.u64();
  uint32_t count = in.u32();
  if (count > m.reader->remaining()) return m.error(EINVAL);
  if (offset > static_cast<uint64_t>(INT64_MAX) ||
      count > static_cast<uint64_t>(INT64_MAX) - offset)
    return m.error(EINVAL);
  auto f = get_fid(fid);
  if (!f) return m.error(EBADF);
  int64_t n;
  {
    std::lock_guard lk(f->m);
    if (f->xattr == Fid::X::Write) {
      // xattr values arrive in order and must fit the announced size.
      if (offset != f->xbuf.size() || f->xbuf.size() + count > f->xsize) return m.error(EINVAL);
      size_t at = f->xbuf.size();
      f->xbuf.resize(at + count);
      if (!m.reader->read(f->xbuf.data() + at, count)) return m.error(EINVAL);
      n = count;
    } else if (!f->open || f->dir) {
      return m.error(EBADF);
    } else {
      std::vector<iovec> src = m.reader->iovecs(count);
      n = fs_->write(fs::Context{f->uid, 0, 0}, f->node, f->fh, offset, src, 0);
    }
  }
  if (n < 0) return m.error(static_cast<int>(n));
  Out o;
  o.u32(static_cast<uint32_t>(std::min<int64_t>(n, count)));
  return m.reply(o);
}

size_t P9Server::do_clunk(Msg& m, bool remove) {
  uint32_t fid = m.in.u32();
  if (!m.in.ok()) return m.error(EINVAL);
  std::shared_ptr<Fid> f;
  {
    std::lock_guard lk(mu_);
    auto it = fids_.find(fid);
    if (it == fids_.end()) return m.error(EBADF);
    f = std::move(it->second);
    fids_.erase(it);
  }
  int rc = 0;
  {
    std::lock_guard lk(f->m);
    if (f->xattr == Fid::X::Write) {
      // Txattrcreate's value is set when its fid is clunked.
      if (f->xbuf.size() != f->xsize) {
        rc = -EINVAL;
      } else if (f->xname.empty()) {
        rc = -EINVAL;
      } else if (f->xsize == 0) {
        // Size 0 is how the Linux client (and QEMU's server) spell removexattr.
        rc = fs_->removexattr(fs::Context{f->uid, 0, 0}, f->node, f->xname);
      } else {
        rc = fs_->setxattr(fs::Context{f->uid, 0, 0}, f->node, f->xname, f->xbuf, f->xflags);
      }
    }
  }
  drop_fid(f);
  // Tremove of a fid (by path) is not offered; the Linux client uses Tunlinkat.
  if (remove) return m.error(EOPNOTSUPP);
  if (rc < 0) return m.error(rc);
  return m.reply_empty();
}

size_t P9Server::do_getattr(Msg& m) {
  uint32_t fid = m.in.u32();
  (void)m.in.u64();  // request_mask: the basic set is always returned
  if (!m.in.ok()) return m.error(EINVAL);
  auto f = get_fid(fid);
  if (!f) return m.error(EBADF);
  struct stat st {};
  if (int rc = fs_->getattr(fs::Context{f->uid, 0, 0}, f->node, std::nullopt, &st); rc < 0)
    return m.error(rc);
  Out o;
  o.u64(kGetattrBasic);
  o.qid(st, qids_.path(st.st_dev, st.st_ino));
  o.u32(st.st_mode);
  o.u32(st.st_uid);
  o.u32(st.st_gid);
  o.u64(st.st_nlink);
  o.u64(st.st_rdev);
  o.u64(static_cast<uint64_t>(st.st_size));
  o.u64(static_cast<uint64_t>(st.st_blksize));
  o.u64(static_cast<uint64_t>(st.st_blocks));
  o.u64(static_cast<uint64_t>(st.st_atim.tv_sec));
  o.u64(static_cast<uint64_t>(st.st_atim.tv_nsec));
  o.u64(static_cast<uint64_t>(st.st_mtim.tv_sec));
  o.u64(static_cast<uint64_t>(st.st_mtim.tv_nsec));
  o.u64(static_cast<uint64_t>(st.st_ctim.tv_sec));
  o.u64(static_cast<uint64_t>(st.st_ctim.tv_nsec));
  for (int i = 0; i < 4; ++i) o.u64(0);  // btime sec/nsec, gen, data_version
  return m.reply(o);
}

size_t P9Server::do_setattr(Msg& m) {
  uint32_t fid = m.in.u32();
  uint32_t valid = m.in.u32();
  fs::SetAttr a;
  a.mode = m.in.u32();
  a.uid = m.in.u32();
  a.gid = m.in.u32();
  a.size = m.in.u64();
  uint64_t as = m.in.u64(), an = m.in.u64(), ms = m.in.u64(), mn = m.in.u64();
  if (!m.in.ok() || an >= 1'000'000'000 || mn >= 1'000'000'000) return m.error(EINVAL);
  auto f = get_fid(fid);
  if (!f) return m.error(EBADF);
  if (valid & kSetMode) a.valid |= FATTR_MODE;
  if (valid & kSetUid) a.valid |= FATTR_UID;
  if (valid & kSetGid) a.valid |= FATTR_GID;
  if (valid & kSetSize) a.valid |= FATTR_SIZE;
  if (valid & kSetAtime) {
    a.valid |= FATTR_ATIME;
    a.atime = (valid & kSetAtimeSet) ? timespec{static_cast<time_t>(as), static_cast<long>(an)}
                                     : timespec{0, UTIME_NOW};
  }
  if (valid & kSetMtime) {
    a.valid |= FATTR_MTIME;
    a.mtime = (valid & kSetMtimeSet) ? timespec{static_cast<time_t>(ms), static_cast<long>(mn)}
                                     : timespec{0, UTIME_NOW};
  }
  {
    std::lock_guard lk(f->m);
    if (f->open && !f->dir) a.fh = f->fh;
  }
  struct stat st {};
  if (int rc = fs_->setattr(fs::Context{f->uid, 0, 0}, f->node, a, &st); rc < 0) return m.error(rc);
  return m.reply_empty();
}

size_t P9Server::do_readdir(Msg& m) {
  uint32_t fid = m.in.u32();
  uint64_t offset = m.in.u64();
  uint32_t count = m.in.u32();
  if (!m.in.ok()) return m.error(EINVAL);
  auto f = get_fid(fid);
  if (!f) return m.error(EBADF);
  uint64_t fh;
  {
    std::lock_guard lk(f->m);
    if (!f->open || !f->dir) return m.error(EBADF);
    fh = f->fh;
  }
  const size_t room = std::min<size_t>(m.out->remaining(), msize_.load());
  if (room < kHdr + 4) return m.error(ENOBUFS);
  const size_t cap = std::min<size_t>(count, room - kHdr - 4);
  Out data;
  bool full = false;
  fs::DirSink sink = [&](const fs::DirEntry& d) {
    if (d.name.empty() || d.name.size() > NAME_MAX) return true;
    size_t rec = 13 + 8 + 1 + 2 + d.name.size();
    if (data.b.size() + rec > cap) {
      full = true;
      return false;
    }
    data.u8(d.type == DT_DIR ? 0x80 : d.type == DT_LNK ? 0x02 : 0);
    data.u32(0);
    data.u64(d.ino);
    data.u64(d.offset);
    data.u8(static_cast<uint8_t>(d.type));
    data.str(d.name);
    return true;
  };
  int rc = fs_->readdir(fs::Context{f->uid, 0, 0}, f->node, fh, offset, sink);
  if (rc < 0 && data.b.empty()) return m.error(rc);
  // An empty Rreaddir means end of directory; when the next entry alone exceeds count, say
  // so (as getdents does) instead of letting the client stop listing early.
  if (full && data.b.empty()) return m.error(EINVAL);
  Out o;
  o.u32(static_cast<uint32_t>(data.b.size()));
  o.b.insert(o.b.end(), data.b.begin(), data.b.end());
  return m.reply(o);
}

size_t P9Server::do_xattrwalk(Msg& m) {
  uint32_t fid = m.in.u32();
  uint32_t newfid = m.in.u32();
  std::string_view name = m.in.str();
  if (!m.in.ok() || name.size() > 255 || name.find('\0') != std::string_view::npos)
    return m.error(EINVAL);
  auto f = get_fid(fid);
  if (!f) return m.error(EBADF);
  fs::Context ctx{f->uid, 0, 0};
  std::vector<uint8_t> v;
  int size =
      name.empty() ? fs_->listxattr(ctx, f->node, 0, &v) : fs_->getxattr(ctx, f->node, name, 0, &v);
  if (size < 0) return m.error(size);
  if (static_cast<uint32_t>(size) > kXattrMax) return m.error(E2BIG);
  const size_t charge = static_cast<size_t>(size);
  if (!take_xattr_bytes(charge)) return m.error(ENOMEM);
  if (size > 0) {
    int rc = name.empty() ? fs_->listxattr(ctx, f->node, static_cast<uint32_t>(size), &v)
                          : fs_->getxattr(ctx, f->node, name, static_cast<uint32_t>(size), &v);
    if (rc < 0) {
      xattr_bytes_ -= charge;
      return m.error(rc);
    }
  }
  if (!fs_->add_ref(f->node)) {
    xattr_bytes_ -= charge;
    return m.error(ENOENT);
  }
  auto nf = std::make_shared<Fid>(f->node, f->uid);
  nf->xattr = Fid::X::Read;
  nf->xbuf = std::move(v);
  nf->xcharged = charge;
  if (!add_fid(newfid, nf)) {
    drop_fid(nf);  // gives the node's count and the charge back
    return m.error(EBADF);
  }
  Out o;
  o.u64(nf->xbuf.size());
  return m.reply(o);
}

size_t P9Server::do_xattrcreate(Msg& m) {
  uint32_t fid = m.in.u32();
  std::string_view name = m.in.str();
  uint64_t size = m.in.u64();
  uint32_t flags = m.in.u32();
  if (!m.in.ok() || name.empty() || name.size() > 255 || name.find('\0') != std::string_view::npos)
    return m.error(EINVAL);
  if (size > kXattrMax) return m.error(E2BIG);
  auto f = get_fid(fid);
  if (!f) return m.error(EBADF);
  std::lock_guard lk(f->m);
  if (f->open || f->xattr != Fid::X::None) return m.error(EBADF);
  if (!take_xattr_bytes(size)) return m.error(ENOSPC);
  f->xcharged = size;
  f->xattr = Fid::X::Write;
  f->xname = std::string(name);
  f->xsize = size;
  f->xflags = flags;
  f->xbuf.clear();
  f->xbuf.reserve(size);
  return m.reply_empty();
}

size_t P9Server::do_create_node(Msg& m) {
  uint32_t dfid = m.in.u32();
  std::string_view name = m.in.str();
  std::string_view target;
  uint32_t mode = 0, major = 0, minor = 0;
  if (m.type == kTsymlink) {
    target = m.in.str();
  } else {
    mode = m.in.u32();
    if (m.type == kTmknod) {
      major = m.in.u32();
      minor = m.in.u32();
    }
  }
  uint32_t gid = m.in.u32();
  if (!m.in.ok() || !valid_name(name, false)) return m.error(EINVAL);
  if (m.type == kTsymlink &&
      (target.empty() || target.size() >= PATH_MAX || target.find('\0') != std::string_view::npos))
    return m.error(EINVAL);
  auto f = get_fid(dfid);
  if (!f) return m.error(EBADF);
  fs::Context ctx{f->uid, gid, 0};
  fs::Entry e;
  int rc;
  if (m.type == kTmkdir)
    rc = fs_->mkdir(ctx, f->node, name, mode, 0, &e);
  else if (m.type == kTsymlink)
    rc = fs_->symlink(ctx, f->node, name, target, &e);
  else
    rc = fs_->mknod(ctx, f->node, name, mode, fuse_encode_dev(major, minor), 0, &e);
  if (rc < 0) return m.error(rc);
  fs_->forget(e.node, 1);  // no fid stands for the new object yet
  Out o;
  o.qid(e.attr, qids_.path(e.attr.st_dev, e.attr.st_ino));
  return m.reply(o);
}

size_t P9Server::do_namespace(Msg& m) {
  if (m.type == kTrename) return m.error(EOPNOTSUPP);  // the client falls back to Trenameat
  uint32_t a = m.in.u32();
  std::string_view n1, n2;
  uint32_t b = 0, flags = 0;
  if (m.type == kTrenameat) {
    n1 = m.in.str();
    b = m.in.u32();
    n2 = m.in.str();
  } else if (m.type == kTunlinkat) {
    n1 = m.in.str();
    flags = m.in.u32();
  } else {  // Tlink: dfid fid name
    b = m.in.u32();
    n1 = m.in.str();
  }
  if (!m.in.ok() || !valid_name(n1, false)) return m.error(EINVAL);
  if (m.type == kTrenameat && !valid_name(n2, false)) return m.error(EINVAL);
  auto fa = get_fid(a);
  if (!fa) return m.error(EBADF);
  fs::Context ctx{fa->uid, 0, 0};
  int rc;
  if (m.type == kTunlinkat) {
    rc = (flags & kAtRemoveDir) ? fs_->rmdir(ctx, fa->node, n1) : fs_->unlink(ctx, fa->node, n1);
  } else {
    auto fb = get_fid(b);
    if (!fb) return m.error(EBADF);
    if (m.type == kTrenameat) {
      rc = fs_->rename(ctx, fa->node, n1, fb->node, n2, 0);
    } else {
      fs::Entry e;
      rc = fs_->link(ctx, fb->node, fa->node, n1, &e);
      if (rc == 0) fs_->forget(e.node, 1);
    }
  }
  if (rc < 0) return m.error(rc);
  return m.reply_empty();
}

size_t P9Server::do_misc(Msg& m) {
  if (m.type == kTflush) {
    (void)m.in.u16();  // requests complete synchronously: nothing to cancel
    if (!m.in.ok()) return m.error(EINVAL);
    return m.reply_empty();
  }
  uint32_t fid = m.in.u32();
  if (!m.in.ok()) return m.error(EINVAL);
  auto f = get_fid(fid);
  if (!f) return m.error(EBADF);
  fs::Context ctx{f->uid, 0, 0};
  Out o;
  switch (m.type) {
    case kTstatfs: {
      struct statvfs sv {};
      if (int rc = fs_->statfs(ctx, f->node, &sv); rc < 0) return m.error(rc);
      o.u32(0x01021997);  // V9FS_MAGIC
      o.u32(static_cast<uint32_t>(sv.f_bsize));
      o.u64(sv.f_blocks);
      o.u64(sv.f_bfree);
      o.u64(sv.f_bavail);
      o.u64(sv.f_files);
      o.u64(sv.f_ffree);
      o.u64(sv.f_fsid);
      o.u32(static_cast<uint32_t>(sv.f_namemax));
      return m.reply(o);
    }
    case kTreadlink: {
      std::string t;
      if (int rc = fs_->readlink(ctx, f->node, &t); rc < 0) return m.error(rc);
      o.str(t);
      return m.reply(o);
    }
    case kTfsync: {
      uint32_t datasync = m.in.u32();
      if (!m.in.ok()) return m.error(EINVAL);
      std::lock_guard lk(f->m);
      if (!f->open) return m.error(EBADF);
      int rc = f->dir ? fs_->fsyncdir(ctx, f->node, f->fh, datasync != 0)
                      : fs_->fsync(ctx, f->node, f->fh, datasync != 0);
      if (rc < 0) return m.error(rc);
      return m.reply(o);
    }
    case kTlock: {
      // Locks are not shared with anyone else: every request succeeds.
      (void)m.in.u8();
      (void)m.in.u32();
      (void)m.in.u64();
      (void)m.in.u64();
      (void)m.in.u32();
      (void)m.in.str();
      if (!m.in.ok()) return m.error(EINVAL);
      o.u8(0);  // P9_LOCK_SUCCESS
      return m.reply(o);
    }
    default: {  // Tgetlock: nobody else holds a lock
      (void)m.in.u8();
      uint64_t start = m.in.u64();
      uint64_t length = m.in.u64();
      uint32_t proc = m.in.u32();
      std::string_view client = m.in.str();
      if (!m.in.ok()) return m.error(EINVAL);
      o.u8(2);  // P9_LOCK_TYPE_UNLCK
      o.u64(start);
      o.u64(length);
      o.u32(proc);
      o.str(client);
      return m.reply(o);
    }
  }
}

}  // namespace runvm::vmm::virtio::p9
