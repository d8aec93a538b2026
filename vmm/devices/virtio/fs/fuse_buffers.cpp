#include "vmm/devices/virtio/fs/fuse_buffers.h"

#include <algorithm>
#include <cstring>

namespace runvm::vmm::virtio::fs {

namespace {

// Drops empty buffers so cursors never stall on them.
std::vector<iovec> compact(std::span<const iovec> in, size_t* total) {
  std::vector<iovec> out;
  out.reserve(in.size());
  *total = 0;
  for (const iovec& v : in) {
    if (v.iov_len == 0 || v.iov_base == nullptr) continue;
    out.push_back(v);
    *total += v.iov_len;
  }
  return out;
}

// Collects iovecs for up to max_bytes starting at (idx, off).
std::vector<iovec> slice(const std::vector<iovec>& bufs, size_t idx, size_t off, size_t max_bytes) {
  std::vector<iovec> out;
  for (size_t i = idx; i < bufs.size() && max_bytes > 0; ++i) {
    size_t start = (i == idx) ? off : 0;
    size_t n = std::min(bufs[i].iov_len - start, max_bytes);
    if (n == 0) continue;
    out.push_back({static_cast<uint8_t*>(bufs[i].iov_base) + start, n});
    max_bytes -= n;
  }
  return out;
}

}  // namespace

FuseReader::FuseReader(std::span<const iovec> bufs) {
  bufs_ = compact(bufs, &remaining_);
}

void FuseReader::limit(size_t n) {
  remaining_ = std::min(remaining_, n);
}

bool FuseReader::read(void* dst, size_t len) {
  if (len > remaining_) return false;
  auto* d = static_cast<uint8_t*>(dst);
  size_t done = 0;
  while (done < len) {
    const iovec& b = bufs_[idx_];
    size_t n = std::min(b.iov_len - off_, len - done);
    std::memcpy(d + done, static_cast<const uint8_t*>(b.iov_base) + off_, n);
    done += n;
    off_ += n;
    if (off_ == b.iov_len) {
      ++idx_;
      off_ = 0;
    }
  }
  remaining_ -= len;
  return true;
}

size_t FuseReader::skip(size_t n) {
  n = std::min(n, remaining_);
  size_t left = n;
  while (left > 0) {
    size_t step = std::min(bufs_[idx_].iov_len - off_, left);
    left -= step;
    off_ += step;
    if (off_ == bufs_[idx_].iov_len) {
      ++idx_;
      off_ = 0;
    }
  }
  remaining_ -= n;
  return n;
}

std::vector<iovec> FuseReader::iovecs(size_t max_bytes) const {
  return slice(bufs_, idx_, off_, std::min(max_bytes, remaining_));
}

FuseWriter::FuseWriter(std::span<const iovec> bufs) {
  bufs_ = compact(bufs, &remaining_);
}

bool FuseWriter::write(const void* src, size_t len) {
  if (len > remaining_) return false;
  const auto* s = static_cast<const uint8_t*>(src);
  size_t done = 0;
  while (done < len) {
    const iovec& b = bufs_[idx_];
    size_t n = std::min(b.iov_len - off_, len - done);
    std::memcpy(static_cast<uint8_t*>(b.iov_base) + off_, s + done, n);
    done += n;
    off_ += n;
    if (off_ == b.iov_len) {
      ++idx_;
      off_ = 0;
    }
  }
  remaining_ -= len;
  written_ += len;
  return true;
}

bool FuseWriter::write_at(size_t pos, const void* src, size_t len) {
  if (pos > written_ || len > written_ - pos) return false;
  const auto* s = static_cast<const uint8_t*>(src);
  size_t i = 0;
  while (pos >= bufs_[i].iov_len) {
    pos -= bufs_[i].iov_len;
    ++i;
  }
  while (len > 0) {
    size_t n = std::min(bufs_[i].iov_len - pos, len);
    std::memcpy(static_cast<uint8_t*>(bufs_[i].iov_base) + pos, s, n);
    s += n;
    len -= n;
    pos = 0;
    ++i;
  }
  return true;
}

std::vector<iovec> FuseWriter::iovecs(size_t max_bytes) const {
  return slice(bufs_, idx_, off_, std::min(max_bytes, remaining_));
}

size_t FuseWriter::advance(size_t n) {
  n = std::min(n, remaining_);
  size_t left = n;
  while (left > 0) {
    size_t step = std::min(bufs_[idx_].iov_len - off_, left);
    left -= step;
    off_ += step;
    if (off_ == bufs_[idx_].iov_len) {
      ++idx_;
      off_ = 0;
    }
  }
  remaining_ -= n;
  written_ += n;
  return n;
}

}  // namespace runvm::vmm::virtio::fs
