// The 9P2000.L wire codec: the only code that reads or writes message bytes.
// Fields are little-endian; strings are len[2] + bytes; a qid is
// type[1] version[4] path[8]. Everything read comes from the guest: a Reader
// never reads past its span, and any short read clears ok() (later values read
// as zero), so a handler decodes every field and then checks ok() once.
#pragma once

#include <sys/stat.h>
#include <sys/statvfs.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace runvm::vmm::virtio::p9::wire {

// 9P2000.L message types (T-messages; each R-message is type + 1).
enum : uint8_t {
  kRlerror = 7,
  kTstatfs = 8,
  kTlopen = 12,
  kTlcreate = 14,
  kTsymlink = 16,
  kTmknod = 18,
  kTrename = 20,
  kTreadlink = 22,
  kTgetattr = 24,
  kTsetattr = 26,
  kTxattrwalk = 30,
  kTxattrcreate = 32,
  kTreaddir = 40,
  kTfsync = 50,
  kTlock = 52,
  kTgetlock = 54,
  kTlink = 70,
  kTmkdir = 72,
  kTrenameat = 74,
  kTunlinkat = 76,
  kTversion = 100,
  kTattach = 104,
  kTflush = 108,
  kTwalk = 110,
  kTread = 116,
  kTwrite = 118,
  kTclunk = 120,
  kTremove = 122,
};

constexpr size_t kHdr = 7;                         // size[4] type[1] tag[2]
constexpr size_t kRlerrorSize = kHdr + 4;          // header + ecode[4]
constexpr size_t kQid = 13;                        // type[1] version[4] path[8]
constexpr size_t kTwriteFixed = 16;                // fid[4] offset[8] count[4], before the data
constexpr size_t kDirentFixed = kQid + 8 + 1 + 2;  // qid offset[8] type[1] name len[2]
constexpr uint32_t kNoFid = 0xffffffff;
constexpr uint32_t kAtRemoveDir = 0x200;
constexpr uint32_t kV9fsMagic = 0x01021997;
constexpr uint8_t kLockSuccess = 0;    // P9_LOCK_SUCCESS
constexpr uint8_t kLockTypeUnlck = 2;  // P9_LOCK_TYPE_UNLCK

// Tsetattr valid bits.
constexpr uint32_t kSetMode = 0x1, kSetUid = 0x2, kSetGid = 0x4, kSetSize = 0x8, kSetAtime = 0x10,
                   kSetMtime = 0x20, kSetAtimeSet = 0x80, kSetMtimeSet = 0x100;
// Rgetattr valid: the basic set.
constexpr uint64_t kGetattrBasic = 0x7ff;

struct Header {
  uint32_t size;
  uint8_t type;
  uint16_t tag;
};
Header parse_header(const uint8_t (&h)[kHdr]);
void put_header(uint8_t* h, uint32_t size, uint8_t type, uint16_t tag);
void put_u32(uint8_t* p, uint32_t v);
// A whole Rlerror message (kRlerrorSize bytes) into m.
void put_rlerror(uint8_t* m, uint16_t tag, uint32_t ecode);
// Twalk's nwname, read without decoding the message (0 when the body is too
// short to hold it).
uint16_t peek_walk_nwname(std::span<const uint8_t> body);

// Little-endian cursor over a message body copied out of guest memory. Any
// short read clears ok(); values read after that are zero.
class Reader {
 public:
  explicit Reader(std::span<const uint8_t> d) : d_(d) {}
  bool ok() const { return ok_; }
  size_t remaining() const { return d_.size() - pos_; }
  uint8_t u8() { return static_cast<uint8_t>(take(1)); }
  uint16_t u16() { return static_cast<uint16_t>(take(2)); }
  uint32_t u32() { return static_cast<uint32_t>(take(4)); }
  uint64_t u64() { return take(8); }
  // A view into the body (valid while the body lives); empty and !ok() when
  // the length runs past the end.
  std::string_view str();

 private:
  uint64_t take(size_t n);
  std::span<const uint8_t> d_;
  size_t pos_ = 0;
  bool ok_ = true;
};

// Builds an R-message body; the header is added by whoever sends it.
class Writer {
 public:
  std::vector<uint8_t> b;
  void u8(uint8_t v) { b.push_back(v); }
  void u16(uint16_t v) { put(v, 2); }
  void u32(uint32_t v) { put(v, 4); }
  void u64(uint64_t v) { put(v, 8); }
  void bytes(std::span<const uint8_t> d) { b.insert(b.end(), d.begin(), d.end()); }
  // Strings longer than 0xffff are cut to it.
  void str(std::string_view s);
  // Overwrites a u16 written earlier at byte offset `at`.
  void patch_u16(size_t at, uint16_t v);
  // `path` from QidPaths: st_ino made unique across host filesystems.
  void qid(const struct stat& st, uint64_t path);
  // One Rreaddir entry (kDirentFixed + name.size() bytes); d_type as in dirent.
  void dirent(uint32_t d_type, uint64_t ino, uint64_t offset, std::string_view name);
  // Rgetattr's body: valid, qid, mode, ids, sizes, times, and zeros for
  // btime, gen and data_version.
  void getattr(uint64_t valid, const struct stat& st, uint64_t qid_path);
  // Rstatfs's body.
  void statfs(const struct statvfs& sv);

 private:
  void put(uint64_t v, size_t n);
};

}  // namespace runvm::vmm::virtio::p9::wire
