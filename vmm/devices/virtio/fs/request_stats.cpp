#include "vmm/devices/virtio/fs/request_stats.h"

#include <linux/fuse.h>

#include <algorithm>
#include <cstdio>
#include <vector>

namespace runvm::vmm::virtio::fs {

void RequestStats::record(uint32_t op, uint64_t ns) {
  Counter& c = by_op_[std::min(op, kOpcodes)];
  c.n.fetch_add(1, std::memory_order_relaxed);
  c.ns.fetch_add(ns, std::memory_order_relaxed);
}

std::string RequestStats::summary() const {
  struct Row {
    uint32_t op;
    uint64_t n, ns;
  };
  std::vector<Row> rows;
  for (uint32_t op = 0; op <= kOpcodes; ++op) {
    uint64_t n = by_op_[op].n.load(std::memory_order_relaxed);
    if (n) rows.push_back({op, n, by_op_[op].ns.load(std::memory_order_relaxed)});
  }
  std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) { return a.ns > b.ns; });
  std::string out;
  char buf[96];
  for (const Row& r : rows) {
    std::snprintf(buf, sizeof buf, "%s%s=%llu/%.1fms", out.empty() ? "" : " ",
                  r.op == kOpcodes ? "other" : fuse_opcode_name(r.op).c_str(),
                  static_cast<unsigned long long>(r.n), static_cast<double>(r.ns) / 1e6);
    out += buf;
  }
  return out;
}

std::string fuse_opcode_name(uint32_t op) {
  switch (op) {
    // clang-format off
    case FUSE_LOOKUP: return "LOOKUP";           case FUSE_FORGET: return "FORGET";
    case FUSE_GETATTR: return "GETATTR";         case FUSE_SETATTR: return "SETATTR";
    case FUSE_READLINK: return "READLINK";       case FUSE_SYMLINK: return "SYMLINK";
    case FUSE_MKNOD: return "MKNOD";             case FUSE_MKDIR: return "MKDIR";
    case FUSE_UNLINK: return "UNLINK";           case FUSE_RMDIR: return "RMDIR";
    case FUSE_RENAME: return "RENAME";           case FUSE_LINK: return "LINK";
    case FUSE_OPEN: return "OPEN";               case FUSE_READ: return "READ";
    case FUSE_WRITE: return "WRITE";             case FUSE_STATFS: return "STATFS";
    case FUSE_RELEASE: return "RELEASE";         case FUSE_FSYNC: return "FSYNC";
    case FUSE_SETXATTR: return "SETXATTR";       case FUSE_GETXATTR: return "GETXATTR";
    case FUSE_LISTXATTR: return "LISTXATTR";     case FUSE_REMOVEXATTR: return "REMOVEXATTR";
    case FUSE_FLUSH: return "FLUSH";             case FUSE_INIT: return "INIT";
    case FUSE_OPENDIR: return "OPENDIR";         case FUSE_READDIR: return "READDIR";
    case FUSE_RELEASEDIR: return "RELEASEDIR";   case FUSE_FSYNCDIR: return "FSYNCDIR";
    case FUSE_GETLK: return "GETLK";             case FUSE_SETLK: return "SETLK";
    case FUSE_SETLKW: return "SETLKW";           case FUSE_ACCESS: return "ACCESS";
    case FUSE_CREATE: return "CREATE";           case FUSE_INTERRUPT: return "INTERRUPT";
    case FUSE_BMAP: return "BMAP";               case FUSE_DESTROY: return "DESTROY";
    case FUSE_IOCTL: return "IOCTL";             case FUSE_POLL: return "POLL";
    case FUSE_NOTIFY_REPLY: return "NOTIFY_REPLY"; case FUSE_BATCH_FORGET: return "BATCH_FORGET";
    case FUSE_FALLOCATE: return "FALLOCATE";     case FUSE_READDIRPLUS: return "READDIRPLUS";
    case FUSE_RENAME2: return "RENAME2";         case FUSE_LSEEK: return "LSEEK";
    case FUSE_COPY_FILE_RANGE: return "COPY_FILE_RANGE"; case FUSE_SYNCFS: return "SYNCFS";
    // clang-format on
    default:
      return "OP" + std::to_string(op);
  }
}

}  // namespace runvm::vmm::virtio::fs
