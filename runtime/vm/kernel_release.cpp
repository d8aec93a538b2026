#include "runtime/vm/kernel_release.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

#include "base/unique_fd.h"

namespace runvm::runtime::vm {

namespace {

constexpr off_t kHdrMagicOffset = 0x202;
constexpr off_t kVersionFieldOffset = 0x20E;
constexpr size_t kMaxVersion = 256;

bool read_at(int fd, void* buf, size_t len, off_t off) {
  return ::pread(fd, buf, len, off) == static_cast<ssize_t>(len);
}

}  // namespace

Result<std::string> kernel_version(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return Error::from_errno("open " + path);
  char magic[4];
  uint8_t field[2];
  if (!read_at(fd.get(), magic, sizeof magic, kHdrMagicOffset) ||
      std::memcmp(magic, "HdrS", 4) != 0 ||
      !read_at(fd.get(), field, sizeof field, kVersionFieldOffset))
    return Error(path + ": not a bzImage (no \"HdrS\" setup header)", ENOEXEC);
  const uint16_t rel = static_cast<uint16_t>(field[0] | (field[1] << 8));
  if (rel == 0) return Error(path + ": the bzImage carries no version string", ENOEXEC);
  char buf[kMaxVersion] = {};
  ssize_t n = ::pread(fd.get(), buf, sizeof buf - 1, static_cast<off_t>(rel) + 0x200);
  if (n <= 0) return Error(path + ": version string past the end of the file", ENOEXEC);
  return std::string(buf, ::strnlen(buf, static_cast<size_t>(n)));
}

Result<std::string> kernel_release(const std::string& path) {
  auto version = kernel_version(path);
  if (!version) return version.error();
  // "6.1.0-27-cloud-amd64 (debian-kernel@lists.debian.org) #1 SMP ...": the release
  // is the first word.
  std::string release = version->substr(0, version->find(' '));
  if (release.empty() || release.find('/') != std::string::npos)
    return Error(path + ": unreadable version string in the bzImage header", ENOEXEC);
  return release;
}

std::string image_release(std::string_view name) {
  constexpr std::string_view prefix = "runvm-initrd-", suffix = ".img";
  if (name.size() <= prefix.size() + suffix.size() || !name.starts_with(prefix) ||
      !name.ends_with(suffix))
    return {};
  return std::string(name.substr(prefix.size(), name.size() - prefix.size() - suffix.size()));
}

std::string image_name_for(std::string_view release) {
  return "runvm-initrd-" + std::string(release) + ".img";
}

std::string vmlinux_name_for(std::string_view release) {
  return "runvm-vmlinux-" + std::string(release);
}

}  // namespace runvm::runtime::vm
