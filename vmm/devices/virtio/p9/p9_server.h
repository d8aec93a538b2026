// A 9P2000.L server over the same FileSystem layer as virtio-fs (so it shares
// PassthroughFs's containment: fd-relative, no host symlink following, ".."
// clamped at the root). This file keeps the fid table and one do_<msg>
// handler per T-message, found through a table keyed by message type (the
// shape of kvmtool's virtio/9p.c); p9_wire.h is the only code touching message
// bytes. Every fid holds one lookup count of its node, dropped on clunk.
//
// Everything in a message is hostile: size fields are checked against the
// bytes present, strings must lie inside the message, names must be single
// path components, fids must exist (and not already exist where created),
// counts are capped by msize and by the reply room. A malformed message gets
// Rlerror (or no reply when not even a header fits).
// Thread-safety: handle() may be called from several threads at once.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "vmm/devices/virtio/chain_buffers.h"
#include "vmm/devices/virtio/fs/file_system.h"
#include "vmm/devices/virtio/p9/qid_paths.h"

namespace runvm::vmm::virtio::p9 {

class P9Server {
 public:
  static constexpr uint32_t kDefaultMaxMsize = 512 * 1024;
  static constexpr uint32_t kMinMsize = 4096;
  static constexpr size_t kMaxFids = 1 << 16;
  static constexpr uint16_t kMaxWalkNames = 16;  // MAXWELEM
  // xattr bytes all fids may hold at once (Txattrwalk values, Txattrcreate
  // buffers): without it 64k fids could pin 64 KiB each, 4 GiB per share.
  static constexpr size_t kMaxXattrBytes = 16 << 20;

  explicit P9Server(std::shared_ptr<fs::FileSystem> fs, uint32_t max_msize = kDefaultMaxMsize);
  ~P9Server();

  // Serves one T-message from `in`, writing the R-message into `out`. Returns
  // the reply size (0 = no reply possible).
  size_t handle(ChainReader& in, ChainWriter& out);

  uint32_t msize() const { return msize_.load(); }
  size_t fid_count() const;
  size_t xattr_bytes() const { return xattr_bytes_.load(); }

  struct Fid;

 private:
  struct Msg;
  std::shared_ptr<Fid> get_fid(uint32_t fid) const;
  bool add_fid(uint32_t fid, std::shared_ptr<Fid> f);
  void drop_fid(const std::shared_ptr<Fid>& f);
  void clunk_all();
  // Takes n bytes of kMaxXattrBytes; false (nothing taken) when they do not fit.
  bool take_xattr_bytes(size_t n);

  // One entry per T-message type: its handler, and the reply body bytes that
  // must fit before it runs (see handle()).
  using Handler = size_t (P9Server::*)(Msg&);
  struct Op {
    Handler run = nullptr;
    size_t reply_room = 0;
  };
  static const std::array<Op, 256> kOps;

  size_t do_version(Msg& m);
  size_t do_attach(Msg& m);
  size_t do_flush(Msg& m);
  size_t do_walk(Msg& m);
  size_t do_lopen(Msg& m);
  size_t do_lcreate(Msg& m);
  size_t do_read(Msg& m);
  size_t do_write(Msg& m);
  size_t do_clunk(Msg& m);
  size_t do_remove(Msg& m);
  size_t do_getattr(Msg& m);
  size_t do_setattr(Msg& m);
  size_t do_readdir(Msg& m);
  size_t do_xattrwalk(Msg& m);
  size_t do_xattrcreate(Msg& m);
  size_t do_mkdir(Msg& m);
  size_t do_symlink(Msg& m);
  size_t do_mknod(Msg& m);
  size_t do_rename(Msg& m);
  size_t do_renameat(Msg& m);
  size_t do_unlinkat(Msg& m);
  size_t do_link(Msg& m);
  size_t do_statfs(Msg& m);
  size_t do_readlink(Msg& m);
  size_t do_fsync(Msg& m);
  size_t do_lock(Msg& m);
  size_t do_getlock(Msg& m);
  // Shared tails: Tclunk/Tremove drop the fid; Tmkdir/Tsymlink/Tmknod reply
  // with the new node's qid.
  size_t clunk(Msg& m, bool remove);
  size_t reply_new_node(Msg& m, int rc, const fs::Entry& e);

  std::shared_ptr<fs::FileSystem> fs_;
  const uint32_t max_msize_;
  std::atomic<uint32_t> msize_{0};
  std::atomic<size_t> xattr_bytes_{0};
  QidPaths qids_;
  mutable std::mutex mu_;
  std::unordered_map<uint32_t, std::shared_ptr<Fid>> fids_;  // GUARDED_BY(mu_)
};

}  // namespace runvm::vmm::virtio::p9
