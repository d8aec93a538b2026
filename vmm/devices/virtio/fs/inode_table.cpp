#include "vmm/devices/virtio/fs/inode_table.h"

#include <unistd.h>

#include <algorithm>

namespace runvm::vmm::virtio::fs {

Inode::~Inode() {
  ::close(fd);
}
Handle::~Handle() {
  ::close(fd);
}

void InodeTable::set_root(int fd, const struct stat& st) {
  auto inode = std::make_shared<Inode>(fd, st.st_dev, st.st_ino, st.st_mode & S_IFMT);
  std::lock_guard lock(mu_);
  nodes_[kRootNode] = Slot{std::move(inode), 1};
  by_id_[{st.st_dev, st.st_ino}] = kRootNode;
}

uint64_t InodeTable::insert_or_ref(int fd, const struct stat& st) {
  std::unique_lock lock(mu_);
  auto it = by_id_.find({st.st_dev, st.st_ino});
  if (it != by_id_.end()) {
    Slot& s = nodes_.at(it->second);
    if (it->second != kRootNode) ++s.refs;
    uint64_t node = it->second;
    lock.unlock();
    ::close(fd);
    return node;
  }
  if (nodes_.size() >= max_) {
    lock.unlock();
    ::close(fd);
    return 0;
  }
  uint64_t node = next_++;
  nodes_[node] = Slot{std::make_shared<Inode>(fd, st.st_dev, st.st_ino, st.st_mode & S_IFMT), 1};
  by_id_[{st.st_dev, st.st_ino}] = node;
  return node;
}

bool InodeTable::ref(uint64_t node) {
  std::lock_guard lock(mu_);
  auto it = nodes_.find(node);
  if (it == nodes_.end()) return false;
  if (node != kRootNode) ++it->second.refs;
  return true;
}

std::shared_ptr<Inode> InodeTable::get(uint64_t node) const {
  std::lock_guard lock(mu_);
  auto it = nodes_.find(node);
  return it == nodes_.end() ? nullptr : it->second.inode;
}

void InodeTable::forget(uint64_t node, uint64_t n) {
  std::shared_ptr<Inode> dropped;  // closed outside the lock
  std::lock_guard lock(mu_);
  if (node == kRootNode) return;
  auto it = nodes_.find(node);
  if (it == nodes_.end()) return;
  Slot& s = it->second;
  s.refs -= std::min(n, s.refs);
  if (s.refs > 0) return;
  dropped = std::move(s.inode);
  by_id_.erase({dropped->dev, dropped->ino});
  nodes_.erase(it);
}

void InodeTable::clear() {
  std::unordered_map<uint64_t, Slot> old;
  std::lock_guard lock(mu_);
  for (auto it = nodes_.begin(); it != nodes_.end();) {
    if (it->first == kRootNode) {
      ++it;
      continue;
    }
    by_id_.erase({it->second.inode->dev, it->second.inode->ino});
    old.insert(std::move(*it));
    it = nodes_.erase(it);
  }
}

size_t InodeTable::size() const {
  std::lock_guard lock(mu_);
  return nodes_.size();
}

uint64_t HandleTable::add(int fd, bool is_dir) {
  std::unique_lock lock(mu_);
  if (handles_.size() >= max_ || (is_dir && dirs_ >= max_dirs_)) {
    lock.unlock();
    ::close(fd);
    return 0;
  }
  if (is_dir) ++dirs_;
  uint64_t fh = next_++;
  handles_[fh] = std::make_shared<Handle>(fd, is_dir);
  return fh;
}

std::shared_ptr<Handle> HandleTable::get(uint64_t fh, bool is_dir) const {
  std::lock_guard lock(mu_);
  auto it = handles_.find(fh);
  if (it == handles_.end() || it->second->is_dir != is_dir) return nullptr;
  return it->second;
}

bool HandleTable::remove(uint64_t fh, bool is_dir) {
  std::shared_ptr<Handle> dropped;
  std::lock_guard lock(mu_);
  auto it = handles_.find(fh);
  if (it == handles_.end() || it->second->is_dir != is_dir) return false;
  dropped = std::move(it->second);
  handles_.erase(it);
  if (is_dir) --dirs_;
  return true;
}

void HandleTable::clear() {
  std::unordered_map<uint64_t, std::shared_ptr<Handle>> old;
  std::lock_guard lock(mu_);
  old.swap(handles_);
  dirs_ = 0;
}

size_t HandleTable::size() const {
  std::lock_guard lock(mu_);
  return handles_.size();
}

}  // namespace runvm::vmm::virtio::fs
