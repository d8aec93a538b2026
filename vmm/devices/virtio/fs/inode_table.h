// Node ids and file handles the guest holds, mapped to host file descriptors.
//
// Node ids and handles are plain counters, never pointers: a forged or stale
// id finds nothing (the caller answers ENOENT/EBADF). Entries are shared_ptrs
// so an operation in flight keeps its fd open even if the guest forgets the
// node meanwhile. Inodes are keyed by (st_dev, st_ino) so one host inode has
// one node id; the O_PATH fd we hold pins the inode, so its number cannot be
// reused while the guest knows it.
//
// Thread-safety: all methods are safe to call concurrently.
#pragma once

#include <sys/stat.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <utility>
#include <vector>

namespace runvm::vmm::virtio::fs {

inline constexpr uint64_t kRootNode = 1;

struct Inode {
  Inode(int f, dev_t d, ino_t i, mode_t t) : fd(f), dev(d), ino(i), type(t) {}
  ~Inode();
  Inode(const Inode&) = delete;
  Inode& operator=(const Inode&) = delete;

  const int fd;  // O_PATH | O_NOFOLLOW
  const dev_t dev;
  const ino_t ino;
  const mode_t type;  // S_IFMT bits
};

class InodeTable {
 public:
  explicit InodeTable(size_t max_inodes) : max_(max_inodes) {}

  // Installs the root (node 1, never forgotten). Takes ownership of fd.
  void set_root(int fd, const struct stat& st);
  // Takes ownership of fd. Returns the node id of (st_dev, st_ino), adding one
  // lookup count; when the inode is already known fd is closed. Returns 0 (fd
  // closed) when the table is full.
  uint64_t insert_or_ref(int fd, const struct stat& st);
  // Adds one lookup count to an existing node; false when unknown.
  bool ref(uint64_t node);
  std::shared_ptr<Inode> get(uint64_t node) const;
  // Drops n lookup counts; the node disappears when none are left.
  void forget(uint64_t node, uint64_t n);
  // Drops every node except the root.
  void clear();
  size_t size() const;

 private:
  struct Slot {
    std::shared_ptr<Inode> inode;
    uint64_t refs = 0;
  };
  const size_t max_;
  mutable std::mutex mu_;
  std::unordered_map<uint64_t, Slot> nodes_;
  std::map<std::pair<dev_t, ino_t>, uint64_t> by_id_;
  uint64_t next_ = kRootNode + 1;
};

struct Handle {
  Handle(int f, bool dir) : fd(f), is_dir(dir) {}
  ~Handle();
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;

  const int fd;
  const bool is_dir;
  std::mutex dir_mu;  // serialises seek+getdents on a directory handle
  // Directory stream state (under dir_mu): entries read from the host but not yet
  // sent, and the offset the stream stands at. A READDIR that continues at that
  // offset goes on without lseek: on tmpfs an lseek counts entries from the start,
  // so re-seeking while the guest unlinks what it listed would skip entries.
  std::vector<char> dir_buf;
  size_t dir_buf_pos = 0;
  uint64_t dir_pos = 0;
};

class HandleTable {
 public:
  // Directory handles also count against max_dirs: each may hold a 32 KiB
  // buffer of entries read ahead, so their number bounds the memory they pin.
  HandleTable(size_t max_handles, size_t max_dirs) : max_(max_handles), max_dirs_(max_dirs) {}
  // Takes ownership of fd; returns the new handle id, 0 (fd closed) when full.
  uint64_t add(int fd, bool is_dir);
  // The handle if it exists and is of the wanted kind.
  std::shared_ptr<Handle> get(uint64_t fh, bool is_dir) const;
  bool remove(uint64_t fh, bool is_dir);
  void clear();
  size_t size() const;

 private:
  const size_t max_;
  const size_t max_dirs_;
  size_t dirs_ = 0;  // GUARDED_BY(mu_)
  mutable std::mutex mu_;
  std::unordered_map<uint64_t, std::shared_ptr<Handle>> handles_;
  uint64_t next_ = 1;
};

}  // namespace runvm::vmm::virtio::fs
