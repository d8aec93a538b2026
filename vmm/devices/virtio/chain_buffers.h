// Byte cursors over the scattered guest buffers of one request, the single
// buffer type of every virtio device (rng, net, vsock, fs, 9p): ChainReader over
// the readable part of a descriptor chain, ChainWriter over its writable part.
// Both also take plain iovecs, so servers (FUSE, 9P) can be driven by tests and
// fuzzers without a queue.
//
// Invariant: neither cursor ever touches a byte outside the buffers it was
// given. Large payloads move with readv/writev/getrandom straight into or out
// of the buffers (iovecs() + advance()), without an intermediate copy.
#pragma once

#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "vmm/devices/virtio/queue.h"

namespace runvm::vmm::virtio {

class ChainReader {
 public:
  explicit ChainReader(std::span<const iovec> bufs);
  // The chain's readable buffers; the chain's guest memory must outlive the reader.
  explicit ChainReader(const DescriptorChain& chain);

  size_t remaining() const { return remaining_; }
  // Caps what may still be read to n bytes (a message's own length field).
  void limit(size_t n);
  // Copies exactly len bytes or nothing (false when fewer remain).
  [[nodiscard]] bool read(void* dst, size_t len);
  template <typename T>
  [[nodiscard]] bool read_obj(T* out) {
    return read(out, sizeof(T));
  }
  // Copies up to dst.size() bytes; returns how many.
  size_t read_some(std::span<uint8_t> dst);
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

class ChainWriter {
 public:
  explicit ChainWriter(std::span<const iovec> bufs);
  // The chain's writable buffers; the chain's guest memory must outlive the writer.
  explicit ChainWriter(const DescriptorChain& chain);

  size_t remaining() const { return remaining_; }
  size_t written() const { return written_; }
  // Copies exactly len bytes or nothing (false when less room remains).
  [[nodiscard]] bool write(const void* src, size_t len);
  template <typename T>
  [[nodiscard]] bool write_obj(const T& v) {
    return write(&v, sizeof(T));
  }
  // Copies up to src.size() bytes; returns how many.
  size_t write_some(std::span<const uint8_t> src);
  // Overwrites len bytes at absolute position pos (< written()); patches a
  // header once the body length is known.
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

}  // namespace runvm::vmm::virtio
