#include "vmm/devices/virtio/p9/p9_wire.h"

#include <dirent.h>

#include <algorithm>

namespace runvm::vmm::virtio::p9::wire {

namespace {

uint64_t get_le(const uint8_t* p, size_t n) {
  uint64_t v = 0;
  for (size_t i = 0; i < n; ++i) v |= static_cast<uint64_t>(p[i]) << (8 * i);
  return v;
}

void put_le(uint8_t* p, uint64_t v, size_t n) {
  for (size_t i = 0; i < n; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}

}  // namespace

Header parse_header(const uint8_t (&h)[kHdr]) {
  return {static_cast<uint32_t>(get_le(h, 4)), h[4], static_cast<uint16_t>(get_le(h + 5, 2))};
}

void put_header(uint8_t* h, uint32_t size, uint8_t type, uint16_t tag) {
  put_le(h, size, 4);
  h[4] = type;
  put_le(h + 5, tag, 2);
}

void put_u32(uint8_t* p, uint32_t v) {
  put_le(p, v, 4);
}

void put_rlerror(uint8_t* m, uint16_t tag, uint32_t ecode) {
  put_header(m, kRlerrorSize, kRlerror, tag);
  put_le(m + kHdr, ecode, 4);
}

uint16_t peek_walk_nwname(std::span<const uint8_t> body) {
  // fid[4] newfid[4] nwname[2]
  return body.size() >= 10 ? static_cast<uint16_t>(get_le(body.data() + 8, 2)) : 0;
}

std::string_view Reader::str() {
  uint16_t n = u16();
  if (!ok_ || remaining() < n) {
    ok_ = false;
    return {};
  }
  std::string_view s(reinterpret_cast<const char*>(d_.data() + pos_), n);
  pos_ += n;
  return s;
}

uint64_t Reader::take(size_t n) {
  if (!ok_ || remaining() < n) {
    ok_ = false;
    return 0;
  }
  uint64_t v = get_le(d_.data() + pos_, n);
  pos_ += n;
  return v;
}

void Writer::put(uint64_t v, size_t n) {
  for (size_t i = 0; i < n; ++i) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

void Writer::str(std::string_view s) {
  const size_t n = std::min<size_t>(s.size(), 0xffff);
  u16(static_cast<uint16_t>(n));
  b.insert(b.end(), s.begin(), s.begin() + n);
}

void Writer::patch_u16(size_t at, uint16_t v) {
  put_le(b.data() + at, v, 2);
}

void Writer::qid(const struct stat& st, uint64_t path) {
  u8(S_ISDIR(st.st_mode) ? 0x80 : S_ISLNK(st.st_mode) ? 0x02 : 0);
  u32(0);
  u64(path);
}

void Writer::dirent(uint32_t d_type, uint64_t ino, uint64_t offset, std::string_view name) {
  u8(d_type == DT_DIR ? 0x80 : d_type == DT_LNK ? 0x02 : 0);  // qid
  u32(0);
  u64(ino);
  u64(offset);
  u8(static_cast<uint8_t>(d_type));
  str(name);
}

void Writer::getattr(uint64_t valid, const struct stat& st, uint64_t qid_path) {
  u64(valid);
  qid(st, qid_path);
  u32(st.st_mode);
  u32(st.st_uid);
  u32(st.st_gid);
  u64(st.st_nlink);
  u64(st.st_rdev);
  u64(static_cast<uint64_t>(st.st_size));
  u64(static_cast<uint64_t>(st.st_blksize));
  u64(static_cast<uint64_t>(st.st_blocks));
  u64(static_cast<uint64_t>(st.st_atim.tv_sec));
  u64(static_cast<uint64_t>(st.st_atim.tv_nsec));
  u64(static_cast<uint64_t>(st.st_mtim.tv_sec));
  u64(static_cast<uint64_t>(st.st_mtim.tv_nsec));
  u64(static_cast<uint64_t>(st.st_ctim.tv_sec));
  u64(static_cast<uint64_t>(st.st_ctim.tv_nsec));
  for (int i = 0; i < 4; ++i) u64(0);  // btime sec/nsec, gen, data_version
}

void Writer::statfs(const struct statvfs& sv) {
  u32(kV9fsMagic);
  u32(static_cast<uint32_t>(sv.f_bsize));
  u64(sv.f_blocks);
  u64(sv.f_bfree);
  u64(sv.f_bavail);
  u64(sv.f_files);
  u64(sv.f_ffree);
  u64(sv.f_fsid);
  u32(static_cast<uint32_t>(sv.f_namemax));
}

}  // namespace runvm::vmm::virtio::p9::wire
