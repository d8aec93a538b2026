#include "vmm/devices/virtio/p9/p9_server.h"

#include "vmm/devices/virtio/p9/p9_wire.h"

#include <fcntl.h>
#include <linux/fuse.h>
#include <linux/limits.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <algorithm>
#include <cerrno>
#include <string>
#include <string_view>
#include <vector>

namespace runvm::vmm::virtio::p9 {

namespace {

using namespace wire;  // message types, kHdr and protocol constants

constexpr uint32_t kXattrMax = 65536;

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
  ChainReader* reader = nullptr;
  ChainWriter* out = nullptr;
  std::vector<uint8_t> body_buf;
  wire::Reader in{{}};

  size_t reply(wire::Writer& body) {
    size_t len = kHdr + body.b.size();
    if (len > out->remaining() || len > 0xffffffffu) return error(ENOBUFS);
    uint8_t h[kHdr];
    put_header(h, static_cast<uint32_t>(len), static_cast<uint8_t>(type + 1), tag);
    if (!out->write(h, kHdr) || !out->write(body.b.data(), body.b.size())) return 0;
    return len;
  }
  size_t reply_empty() {
    wire::Writer o;
    return reply(o);
  }
  size_t error(int e) {
    e = std::abs(e);
    if (e == 0 || e >= 4096) e = EIO;
    uint8_t m[kRlerrorSize];
    put_rlerror(m, tag, static_cast<uint32_t>(e));
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

size_t P9Server::handle(ChainReader& in, ChainWriter& out) {
  Msg m;
  m.reader = &in;
  m.out = &out;
  uint8_t h[kHdr];
  if (!in.read(h, kHdr)) return 0;
  const Header hdr = parse_header(h);
  const uint32_t size = hdr.size;
  m.type = hdr.type;
  m.tag = hdr.tag;
  if (out.remaining() < kRlerrorSize) return 0;  // not even an Rlerror fits
  if (size < kHdr || size - kHdr > in.remaining()) return m.error(EINVAL);
  uint32_t msize = msize_.load();
  if (m.type != kTversion && msize == 0) return m.error(EPROTO);  // Tversion comes first
  if (msize != 0 && size > msize) return m.error(EMSGSIZE);
  in.limit(size - kHdr);
  if (m.type == kTwrite) return do_write(m);  // streams its data: no body copy
  if (in.remaining() > std::max(msize, kMinMsize)) return m.error(EMSGSIZE);
  m.body_buf.resize(in.remaining());
  if (!in.read(m.body_buf.data(), m.body_buf.size())) return m.error(EINVAL);
  m.in = wire::Reader(m.body_buf);
  // Operations with side effects only run when their reply fits, so a lookup
  // count or a created file is never lost for want of room.
  const Op& op = kOps[m.type];
  size_t need = kHdr + op.reply_room;
  if (m.type == kTwalk) {
    // Room for one qid per name asked for: the Linux client sizes the Rwalk
    // buffer by nwname (a clone, nwname 0, gets only 11 bytes).
    need += kQid * size_t{std::min<uint16_t>(peek_walk_nwname(m.body_buf), kMaxWalkNames)};
  }
  if (out.remaining() < need) return m.error(ENOBUFS);
  if (!op.run) return m.error(EOPNOTSUPP);  // Tauth, legacy 9P2000 messages, garbage
  return (this->*op.run)(m);
}

size_t P9Server::do_version(Msg& m) {
  uint32_t want = m.in.u32();
  std::string_view version = m.in.str();
  if (!m.in.ok()) return m.error(EINVAL);
  if (want < kMinMsize) return m.error(EINVAL);
  // A new session: every fid of the old one is clunked.
  clunk_all();
  wire::Writer o;
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
  wire::Writer o;
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

  wire::Writer o;
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
    o.patch_u16(0, static_cast<uint16_t>(walked));  // partial walk: newfid is not created
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
  o.patch_u16(0, static_cast<uint16_t>(walked));
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
  wire::Writer o;
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
  wire::Writer o;
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
  if (room < kHdr + 4) return m.error(ENOBUFS);  // header + count[4]
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
    uint8_t e[kRlerrorSize];
    put_rlerror(e, m.tag, static_cast<uint32_t>(-got));
    return m.out->write_at(start, e, sizeof(e)) ? sizeof(e) : 0;
  }
  uint32_t total = static_cast<uint32_t>(m.out->written() - start);
  uint32_t cnt = total - kHdr - 4;
  put_header(h, total, kTread + 1, m.tag);
  put_u32(h + kHdr, cnt);
  return m.out->write_at(start, h, sizeof(h)) ? total : 0;
}

size_t P9Server::do_write(Msg& m) {
  uint8_t hb[kTwriteFixed];
  if (!m.reader->read(hb, sizeof(hb))) return m.error(EINVAL);
  wire::Reader in(hb);
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
  wire::Writer o;
  o.u32(static_cast<uint32_t>(std::min<int64_t>(n, count)));
  return m.reply(o);
}

size_t P9Server::do_clunk(Msg& m) {
  return clunk(m, false);
}

size_t P9Server::do_remove(Msg& m) {
  return clunk(m, true);
}

size_t P9Server::clunk(Msg& m, bool remove) {
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
  wire::Writer o;
  o.getattr(kGetattrBasic, st, qids_.path(st.st_dev, st.st_ino));
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
  wire::Writer data;
  bool full = false;
  fs::DirSink sink = [&](const fs::DirEntry& d) {
    if (d.name.empty() || d.name.size() > NAME_MAX) return true;
    size_t rec = kDirentFixed + d.name.size();
    if (data.b.size() + rec > cap) {
      full = true;
      return false;
    }
    data.dirent(d.type, d.ino, d.offset, d.name);
    return true;
  };
  int rc = fs_->readdir(fs::Context{f->uid, 0, 0}, f->node, fh, offset, sink);
  if (rc < 0 && data.b.empty()) return m.error(rc);
  // An empty Rreaddir means end of directory; when the next entry alone exceeds count, say
  // so (as getdents does) instead of letting the client stop listing early.
  if (full && data.b.empty()) return m.error(EINVAL);
  wire::Writer o;
  o.u32(static_cast<uint32_t>(data.b.size()));
  o.bytes(data.b);
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
  wire::Writer o;
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

size_t P9Server::do_mkdir(Msg& m) {
  uint32_t dfid = m.in.u32();
  std::string_view name = m.in.str();
  uint32_t mode = m.in.u32();
  uint32_t gid = m.in.u32();
  if (!m.in.ok() || !valid_name(name, false)) return m.error(EINVAL);
  auto f = get_fid(dfid);
  if (!f) return m.error(EBADF);
  fs::Entry e;
  int rc = fs_->mkdir(fs::Context{f->uid, gid, 0}, f->node, name, mode, 0, &e);
  return reply_new_node(m, rc, e);
}

size_t P9Server::do_symlink(Msg& m) {
  uint32_t dfid = m.in.u32();
  std::string_view name = m.in.str();
  std::string_view target = m.in.str();
  uint32_t gid = m.in.u32();
  if (!m.in.ok() || !valid_name(name, false)) return m.error(EINVAL);
  if (target.empty() || target.size() >= PATH_MAX || target.find('\0') != std::string_view::npos)
    return m.error(EINVAL);
  auto f = get_fid(dfid);
  if (!f) return m.error(EBADF);
  fs::Entry e;
  int rc = fs_->symlink(fs::Context{f->uid, gid, 0}, f->node, name, target, &e);
  return reply_new_node(m, rc, e);
}

size_t P9Server::do_mknod(Msg& m) {
  uint32_t dfid = m.in.u32();
  std::string_view name = m.in.str();
  uint32_t mode = m.in.u32();
  uint32_t major = m.in.u32();
  uint32_t minor = m.in.u32();
  uint32_t gid = m.in.u32();
  if (!m.in.ok() || !valid_name(name, false)) return m.error(EINVAL);
  auto f = get_fid(dfid);
  if (!f) return m.error(EBADF);
  fs::Entry e;
  int rc = fs_->mknod(fs::Context{f->uid, gid, 0}, f->node, name, mode,
                      fuse_encode_dev(major, minor), 0, &e);
  return reply_new_node(m, rc, e);
}

size_t P9Server::reply_new_node(Msg& m, int rc, const fs::Entry& e) {
  if (rc < 0) return m.error(rc);
  fs_->forget(e.node, 1);  // no fid stands for the new object yet
  wire::Writer o;
  o.qid(e.attr, qids_.path(e.attr.st_dev, e.attr.st_ino));
  return m.reply(o);
}

size_t P9Server::do_rename(Msg& m) {
  return m.error(EOPNOTSUPP);  // the client falls back to Trenameat
}

size_t P9Server::do_renameat(Msg& m) {
  uint32_t olddirfid = m.in.u32();
  std::string_view oldname = m.in.str();
  uint32_t newdirfid = m.in.u32();
  std::string_view newname = m.in.str();
  if (!m.in.ok() || !valid_name(oldname, false)) return m.error(EINVAL);
  if (!valid_name(newname, false)) return m.error(EINVAL);
  auto fa = get_fid(olddirfid);
  if (!fa) return m.error(EBADF);
  auto fb = get_fid(newdirfid);
  if (!fb) return m.error(EBADF);
  int rc = fs_->rename(fs::Context{fa->uid, 0, 0}, fa->node, oldname, fb->node, newname, 0);
  if (rc < 0) return m.error(rc);
  return m.reply_empty();
}

size_t P9Server::do_unlinkat(Msg& m) {
  uint32_t dfid = m.in.u32();
  std::string_view name = m.in.str();
  uint32_t flags = m.in.u32();
  if (!m.in.ok() || !valid_name(name, false)) return m.error(EINVAL);
  auto f = get_fid(dfid);
  if (!f) return m.error(EBADF);
  fs::Context ctx{f->uid, 0, 0};
  int rc =
      (flags & kAtRemoveDir) ? fs_->rmdir(ctx, f->node, name) : fs_->unlink(ctx, f->node, name);
  if (rc < 0) return m.error(rc);
  return m.reply_empty();
}

size_t P9Server::do_link(Msg& m) {
  uint32_t dfid = m.in.u32();
  uint32_t fid = m.in.u32();
  std::string_view name = m.in.str();
  if (!m.in.ok() || !valid_name(name, false)) return m.error(EINVAL);
  auto dir = get_fid(dfid);
  if (!dir) return m.error(EBADF);
  auto target = get_fid(fid);
  if (!target) return m.error(EBADF);
  fs::Entry e;
  int rc = fs_->link(fs::Context{dir->uid, 0, 0}, target->node, dir->node, name, &e);
  if (rc < 0) return m.error(rc);
  fs_->forget(e.node, 1);
  return m.reply_empty();
}

size_t P9Server::do_flush(Msg& m) {
  (void)m.in.u16();  // oldtag: requests complete synchronously, nothing to cancel
  if (!m.in.ok()) return m.error(EINVAL);
  return m.reply_empty();
}

size_t P9Server::do_statfs(Msg& m) {
  uint32_t fid = m.in.u32();
  if (!m.in.ok()) return m.error(EINVAL);
  auto f = get_fid(fid);
  if (!f) return m.error(EBADF);
  struct statvfs sv {};
  if (int rc = fs_->statfs(fs::Context{f->uid, 0, 0}, f->node, &sv); rc < 0) return m.error(rc);
  wire::Writer o;
  o.statfs(sv);
  return m.reply(o);
}

size_t P9Server::do_readlink(Msg& m) {
  uint32_t fid = m.in.u32();
  if (!m.in.ok()) return m.error(EINVAL);
  auto f = get_fid(fid);
  if (!f) return m.error(EBADF);
  std::string t;
  if (int rc = fs_->readlink(fs::Context{f->uid, 0, 0}, f->node, &t); rc < 0) return m.error(rc);
  wire::Writer o;
  o.str(t);
  return m.reply(o);
}

size_t P9Server::do_fsync(Msg& m) {
  uint32_t fid = m.in.u32();
  if (!m.in.ok()) return m.error(EINVAL);
  auto f = get_fid(fid);
  if (!f) return m.error(EBADF);
  uint32_t datasync = m.in.u32();
  if (!m.in.ok()) return m.error(EINVAL);
  fs::Context ctx{f->uid, 0, 0};
  std::lock_guard lk(f->m);
  if (!f->open) return m.error(EBADF);
  int rc = f->dir ? fs_->fsyncdir(ctx, f->node, f->fh, datasync != 0)
                  : fs_->fsync(ctx, f->node, f->fh, datasync != 0);
  if (rc < 0) return m.error(rc);
  return m.reply_empty();
}

// Locks are not shared with anyone else: every request succeeds. The fid is
// checked before the rest of the message is decoded.
size_t P9Server::do_lock(Msg& m) {
  uint32_t fid = m.in.u32();
  if (!m.in.ok()) return m.error(EINVAL);
  if (!get_fid(fid)) return m.error(EBADF);
  (void)m.in.u8();   // type
  (void)m.in.u32();  // flags
  (void)m.in.u64();  // start
  (void)m.in.u64();  // length
  (void)m.in.u32();  // proc_id
  (void)m.in.str();  // client_id
  if (!m.in.ok()) return m.error(EINVAL);
  wire::Writer o;
  o.u8(kLockSuccess);
  return m.reply(o);
}

// Nobody else holds a lock: the answer is always "unlocked".
size_t P9Server::do_getlock(Msg& m) {
  uint32_t fid = m.in.u32();
  if (!m.in.ok()) return m.error(EINVAL);
  if (!get_fid(fid)) return m.error(EBADF);
  (void)m.in.u8();  // type
  uint64_t start = m.in.u64();
  uint64_t length = m.in.u64();
  uint32_t proc = m.in.u32();
  std::string_view client = m.in.str();
  if (!m.in.ok()) return m.error(EINVAL);
  wire::Writer o;
  o.u8(kLockTypeUnlck);
  o.u64(start);
  o.u64(length);
  o.u32(proc);
  o.str(client);
  return m.reply(o);
}

// The handler table (kvmtool's virtio_9p_dispatch_table). reply_room: the
// reply body handle() makes room for first (Twalk adds a qid per name there).
const std::array<P9Server::Op, 256> P9Server::kOps = [] {
  std::array<Op, 256> t{};
  t[kTversion] = {&P9Server::do_version};
  t[kTattach] = {&P9Server::do_attach, kQid};
  t[kTflush] = {&P9Server::do_flush};
  t[kTwalk] = {&P9Server::do_walk, 2};  // nwqid[2]
  t[kTlopen] = {&P9Server::do_lopen, kQid + 4};
  t[kTlcreate] = {&P9Server::do_lcreate, kQid + 4};
  t[kTread] = {&P9Server::do_read};
  t[kTwrite] = {&P9Server::do_write};
  t[kTclunk] = {&P9Server::do_clunk};
  t[kTremove] = {&P9Server::do_remove};
  t[kTgetattr] = {&P9Server::do_getattr};
  t[kTsetattr] = {&P9Server::do_setattr};
  t[kTreaddir] = {&P9Server::do_readdir};
  t[kTxattrwalk] = {&P9Server::do_xattrwalk, 8};
  t[kTxattrcreate] = {&P9Server::do_xattrcreate};
  t[kTmkdir] = {&P9Server::do_mkdir, kQid};
  t[kTsymlink] = {&P9Server::do_symlink, kQid};
  t[kTmknod] = {&P9Server::do_mknod, kQid};
  t[kTrename] = {&P9Server::do_rename};
  t[kTrenameat] = {&P9Server::do_renameat};
  t[kTunlinkat] = {&P9Server::do_unlinkat};
  t[kTlink] = {&P9Server::do_link};
  t[kTstatfs] = {&P9Server::do_statfs};
  t[kTreadlink] = {&P9Server::do_readlink};
  t[kTfsync] = {&P9Server::do_fsync};
  t[kTlock] = {&P9Server::do_lock};
  t[kTgetlock] = {&P9Server::do_getlock};
  return t;
}();

}  // namespace runvm::vmm::virtio::p9
