#include "vmm/snapshot/snapshot_file.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/fnv1a.h"
#include "vmm/snapshot/state_buffer.h"

namespace runvm::vmm::snapshot {

namespace {

constexpr char kMagic[8] = {'R', 'U', 'N', 'V', 'M', 'S', 'N', 'P'};
constexpr uint32_t kMaxSections = 256;
constexpr uint32_t kMaxNameBytes = 64;

// The checksum (base/fnv1a.h) catches truncation and flipped bits; the file is not an
// authenticated input (it lives in runvm's own root-owned directory).

}  // namespace

std::vector<uint8_t> encode_sections(const Sections& sections) {
  StateWriter w;
  w.put_bytes({reinterpret_cast<const uint8_t*>(kMagic), sizeof kMagic});
  w.put<uint32_t>(kFormatVersion);
  w.put<uint32_t>(static_cast<uint32_t>(sections.size()));
  for (const auto& [name, data] : sections) {
    w.put_string(name);
    w.put<uint64_t>(data.size());
    w.put_bytes(data);
  }
  std::vector<uint8_t> out = w.take();
  uint64_t sum = fnv1a(out.data(), out.size());
  const auto* s = reinterpret_cast<const uint8_t*>(&sum);
  out.insert(out.end(), s, s + sizeof sum);
  return out;
}

Result<Sections> decode_sections(const std::vector<uint8_t>& bytes) {
  if (bytes.size() < sizeof kMagic + 8 + 8 || std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0)
    return Error("not a runvm snapshot (bad magic)", EINVAL);
  const size_t body = bytes.size() - 8;
  uint64_t sum;
  std::memcpy(&sum, bytes.data() + body, sizeof sum);
  if (sum != fnv1a(bytes.data(), body))
    return Error("checksum mismatch (truncated or corrupt)", EINVAL);
  StateReader r(std::span<const uint8_t>(bytes.data(), body));
  uint8_t magic[sizeof kMagic];
  uint32_t version = 0, count = 0;
  r.get_bytes(magic);
  if (!r.get(&version) || version != kFormatVersion)
    return Error("snapshot format version " + std::to_string(version) + ", this runvm-vmm reads " +
                     std::to_string(kFormatVersion),
                 EINVAL);
  if (!r.get(&count) || count > kMaxSections) return Error("bad section count", EINVAL);
  Sections out;
  for (uint32_t i = 0; i < count; ++i) {
    std::string name;
    uint64_t len = 0;
    if (!r.get_string(&name, kMaxNameBytes) || !r.get(&len) || len > body)
      return Error("section " + std::to_string(i) + ": truncated header", EINVAL);
    std::vector<uint8_t> data(len);
    if (!r.get_bytes(data)) return Error("section " + name + ": truncated", EINVAL);
    if (!out.emplace(name, std::move(data)).second)
      return Error("section " + name + " appears twice", EINVAL);
  }
  if (!r.finished()) return Error("trailing bytes after the last section", EINVAL);
  return out;
}

Status write_state_file(int fd, const Sections& sections, const std::string& what) {
  std::vector<uint8_t> bytes = encode_sections(sections);
  if (::ftruncate(fd, 0) != 0) return Error::from_errno("truncate " + what);
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::pwrite(fd, bytes.data() + done, bytes.size() - done, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Error::from_errno("write " + what);
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) return Error::from_errno("fsync " + what);
  return {};
}

Result<Sections> read_state_file(int fd, const std::string& what) {
  struct stat st;
  if (::fstat(fd, &st) != 0) return Error::from_errno("stat " + what);
  if (!S_ISREG(st.st_mode) || st.st_size < 0 ||
      static_cast<uint64_t>(st.st_size) > kMaxStateFileBytes)
    return Error(what + ": not a regular file of at most 16 MiB", EINVAL);
  std::vector<uint8_t> bytes(static_cast<size_t>(st.st_size));
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::pread(fd, bytes.data() + done, bytes.size() - done, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error::from_errno("read " + what);
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  bytes.resize(done);
  auto s = decode_sections(bytes);
  if (!s) return std::move(s).error().wrap(what);
  return s;
}

}  // namespace runvm::vmm::snapshot
