// Byte cursors over scattered buffers: the request side (readable guest buffers)
// and the reply side (writable guest buffers) of one FUSE message. The FUSE
// server is written against these, not against virtqueues, so it can be driven
// by tests and fuzzers with plain memory.
//
// Invariant: neither cursor ever touches a byte outside the spans it was given.
// Large READ/WRITE payloads are moved with preadv/pwritev straight into/out of
// the spans (iovecs()), without an intermediate copy.
#pragma once

#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace runvm::vmm::virtio::fs {

class FuseReader {
 public:
  explicit FuseReader(std::span<const iovec> bufs);

  size_t remaining() const { return remaining_; }
  // Caps what may still be read to n bytes (the message's own length field).
  void limit(size_t n);
  // Copies exactly len bytes or nothing (false when fewer remain).
  [[nodiscard]] bool read(void* dst, size_t len);
  template <typename T>
  [[nodiscard]] bool read_obj(T* out) {
    return read(out, sizeof(T));
  }
  // Skips up to n bytes; returns how many.
  size_t skip(size_t n);
  // Host iovecs covering up to max_bytes of the unread data (does not advance).
  std::vector<iovec> iovecs(size_t max_bytes) const;

 private:
  std::vector<iovec> bufs_;
  size_t idx_ = 0;
  size_t off_ = 0;
  size_t remaining_ = 0;
};

class FuseWriter {
 public:
  explicit FuseWriter(std::span<const iovec> bufs);

  size_t remaining() const { return remaining_; }
  size_t written() const { return written_; }
  // Copies exactly len bytes or nothing (false when less room remains).
  [[nodiscard]] bool write(const void* src, size_t len);
  template <typename T>
  [[nodiscard]] bool write_obj(const T& v) {
    return write(&v, sizeof(T));
  }
  // Overwrites len bytes at absolute position pos (< written()); used to patch
  // a header once the body length is known.
  [[nodiscard]] bool write_at(size_t pos, const void* src, size_t len);
  // Host iovecs for up to max_bytes of the unwritten room (does not advance);
  // fill them, then advance().
  std::vector<iovec> iovecs(size_t max_bytes) const;
  // Marks up to n bytes as written; returns how many.
  size_t advance(size_t n);

 private:
  std::vector<iovec> bufs_;
  size_t idx_ = 0;
  size_t off_ = 0;
  size_t remaining_ = 0;
  size_t written_ = 0;
};

}  // namespace runvm::vmm::virtio::fs
