#include "vmm/devices/virtio/chain_buffers.h"

#include <algorithm>
#include <cstring>
#include <type_traits>

namespace runvm::vmm::virtio {

namespace {

// Drops empty buffers so the cursors never stall on them.
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

std::vector<iovec> to_iovecs(std::span<const ChainBuffer> bufs) {
  std::vector<iovec> v;
  v.reserve(bufs.size());
  for (const ChainBuffer& b : bufs) v.push_back({b.host, b.len});
  return v;
}

// Iovecs for up to max_bytes starting at (idx, off).
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

// Moves the cursor (idx, off) n bytes on; n must not exceed what is left.
void step(const std::vector<iovec>& bufs, size_t* idx, size_t* off, size_t n) {
  while (n > 0) {
    size_t k = std::min(bufs[*idx].iov_len - *off, n);
    n -= k;
    *off += k;
    if (*off == bufs[*idx].iov_len) {
      ++*idx;
      *off = 0;
    }
  }
}

// Copies n bytes between the cursor's buffers and `flat`: into the buffers when
// Flat is const (a write), out of them otherwise (a read).
template <typename Flat>
void copy(const std::vector<iovec>& bufs, size_t* idx, size_t* off, Flat* flat, size_t n) {
  size_t done = 0;
  while (done < n) {
    const iovec& b = bufs[*idx];
    size_t k = std::min(b.iov_len - *off, n - done);
    uint8_t* at = static_cast<uint8_t*>(b.iov_base) + *off;
    if constexpr (std::is_const_v<Flat>)
      std::memcpy(at, flat + done, k);
    else
      std::memcpy(flat + done, at, k);
    done += k;
    *off += k;
    if (*off == b.iov_len) {
      ++*idx;
      *off = 0;
    }
  }
}

}  // namespace

// remaining_ is set in the body: its default initialiser runs after bufs_'s.
ChainReader::ChainReader(std::span<const iovec> bufs) {
  bufs_ = compact(bufs, &remaining_);
}

ChainReader::ChainReader(const DescriptorChain& chain) : ChainReader(to_iovecs(chain.readable())) {}

void ChainReader::limit(size_t n) {
  remaining_ = std::min(remaining_, n);
}

size_t ChainReader::read_some(std::span<uint8_t> dst) {
  size_t n = std::min(dst.size(), remaining_);
  copy(bufs_, &idx_, &off_, dst.data(), n);
  remaining_ -= n;
  return n;
}

bool ChainReader::read(void* dst, size_t len) {
  if (len > remaining_) return false;
  return read_some(std::span(static_cast<uint8_t*>(dst), len)) == len;
}

size_t ChainReader::skip(size_t n) {
  n = std::min(n, remaining_);
  step(bufs_, &idx_, &off_, n);
  remaining_ -= n;
  return n;
}

std::vector<iovec> ChainReader::iovecs(size_t max_bytes) const {
  return slice(bufs_, idx_, off_, std::min(max_bytes, remaining_));
}

ChainWriter::ChainWriter(std::span<const iovec> bufs) {
  bufs_ = compact(bufs, &remaining_);
}

ChainWriter::ChainWriter(const DescriptorChain& chain) : ChainWriter(to_iovecs(chain.writable())) {}

size_t ChainWriter::write_some(std::span<const uint8_t> src) {
  size_t n = std::min(src.size(), remaining_);
  copy(bufs_, &idx_, &off_, src.data(), n);
  remaining_ -= n;
  written_ += n;
  return n;
}

bool ChainWriter::write(const void* src, size_t len) {
  if (len > remaining_) return false;
  return write_some(std::span(static_cast<const uint8_t*>(src), len)) == len;
}

bool ChainWriter::write_at(size_t pos, const void* src, size_t len) {
  if (pos > written_ || len > written_ - pos) return false;
  size_t idx = 0, off = 0;
  step(bufs_, &idx, &off, pos);
  copy(bufs_, &idx, &off, static_cast<const uint8_t*>(src), len);
  return true;
}

std::vector<iovec> ChainWriter::iovecs(size_t max_bytes) const {
  return slice(bufs_, idx_, off_, std::min(max_bytes, remaining_));
}

size_t ChainWriter::advance(size_t n) {
  n = std::min(n, remaining_);
  step(bufs_, &idx_, &off_, n);
  remaining_ -= n;
  written_ += n;
  return n;
}

}  // namespace runvm::vmm::virtio
