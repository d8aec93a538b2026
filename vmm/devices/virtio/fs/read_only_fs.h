// A FileSystem wrapper for `:ro` shares: every write-type request answers EROFS
// before it reaches the wrapped filesystem; reads pass through unchanged.
#pragma once

#include <memory>

#include "vmm/devices/virtio/fs/file_system.h"

namespace runvm::vmm::virtio::fs {

class ReadOnlyFs final : public FileSystem {
 public:
  explicit ReadOnlyFs(std::shared_ptr<FileSystem> inner) : in_(std::move(inner)) {}

  void init() override { in_->init(); }
  void destroy() override { in_->destroy(); }
  uint64_t attr_timeout_ns() const override { return in_->attr_timeout_ns(); }
  int lookup(const Context& c, uint64_t p, std::string_view n, Entry* o) override {
    return in_->lookup(c, p, n, o);
  }
  void forget(uint64_t node, uint64_t n) override { in_->forget(node, n); }
  bool add_ref(uint64_t node) override { return in_->add_ref(node); }
  int getattr(const Context& c, uint64_t node, std::optional<uint64_t> fh,
              struct stat* o) override {
    return in_->getattr(c, node, fh, o);
  }
  int setattr(const Context&, uint64_t, const SetAttr&, struct stat*) override { return -EROFS; }
  int readlink(const Context& c, uint64_t node, std::string* t) override {
    return in_->readlink(c, node, t);
  }
  int symlink(const Context&, uint64_t, std::string_view, std::string_view, Entry*) override {
    return -EROFS;
  }
  int mknod(const Context&, uint64_t, std::string_view, uint32_t, uint32_t, uint32_t,
            Entry*) override {
    return -EROFS;
  }
  int mkdir(const Context&, uint64_t, std::string_view, uint32_t, uint32_t, Entry*) override {
    return -EROFS;
  }
  int unlink(const Context&, uint64_t, std::string_view) override { return -EROFS; }
  int rmdir(const Context&, uint64_t, std::string_view) override { return -EROFS; }
  int rename(const Context&, uint64_t, std::string_view, uint64_t, std::string_view,
             uint32_t) override {
    return -EROFS;
  }
  int link(const Context&, uint64_t, uint64_t, std::string_view, Entry*) override { return -EROFS; }
  int open(const Context& c, uint64_t node, uint32_t flags, uint64_t* fh, uint32_t* of) override;
  int create(const Context&, uint64_t, std::string_view, uint32_t, uint32_t, uint32_t, Entry*,
             uint64_t*, uint32_t*) override {
    return -EROFS;
  }
  int64_t read(const Context& c, uint64_t node, uint64_t fh, uint64_t off,
               std::span<const iovec> dst) override {
    return in_->read(c, node, fh, off, dst);
  }
  int64_t write(const Context&, uint64_t, uint64_t, uint64_t, std::span<const iovec>,
                uint32_t) override {
    return -EROFS;
  }
  int flush(const Context& c, uint64_t node, uint64_t fh) override {
    return in_->flush(c, node, fh);
  }
  int release(const Context& c, uint64_t node, uint64_t fh) override {
    return in_->release(c, node, fh);
  }
  int fsync(const Context& c, uint64_t node, uint64_t fh, bool ds) override {
    return in_->fsync(c, node, fh, ds);
  }
  int opendir(const Context& c, uint64_t node, uint32_t flags, uint64_t* fh) override {
    return in_->opendir(c, node, flags, fh);
  }
  int readdir(const Context& c, uint64_t node, uint64_t fh, uint64_t off,
              const DirSink& sink) override {
    return in_->readdir(c, node, fh, off, sink);
  }
  int releasedir(const Context& c, uint64_t node, uint64_t fh) override {
    return in_->releasedir(c, node, fh);
  }
  int fsyncdir(const Context& c, uint64_t node, uint64_t fh, bool ds) override {
    return in_->fsyncdir(c, node, fh, ds);
  }
  int statfs(const Context& c, uint64_t node, struct statvfs* o) override;
  int access(const Context& c, uint64_t node, uint32_t mask) override;
  int setxattr(const Context&, uint64_t, std::string_view, std::span<const uint8_t>,
               uint32_t) override {
    return -EROFS;
  }
  int getxattr(const Context& c, uint64_t node, std::string_view n, uint32_t size,
               std::vector<uint8_t>* v) override {
    return in_->getxattr(c, node, n, size, v);
  }
  int listxattr(const Context& c, uint64_t node, uint32_t size, std::vector<uint8_t>* v) override {
    return in_->listxattr(c, node, size, v);
  }
  int removexattr(const Context&, uint64_t, std::string_view) override { return -EROFS; }
  int fallocate(const Context&, uint64_t, uint64_t, uint32_t, uint64_t, uint64_t) override {
    return -EROFS;
  }
  int lseek(const Context& c, uint64_t node, uint64_t fh, uint64_t off, uint32_t whence,
            uint64_t* o) override {
    return in_->lseek(c, node, fh, off, whence, o);
  }
  int64_t copy_file_range(const Context&, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t,
                          uint64_t, uint64_t, uint32_t) override {
    return -EROFS;
  }

 private:
  std::shared_ptr<FileSystem> in_;
};

}  // namespace runvm::vmm::virtio::fs
