#include "runtime/vm/uncompressed_kernel.h"

#include <sys/stat.h>

#include <fstream>

#include "runtime/vm/kernel_release.h"

namespace runvm::runtime::vm {

std::optional<std::string> uncompressed_kernel_for(const std::string& bzimage,
                                                   const std::string& dir) {
  auto version = kernel_version(bzimage);
  if (!version || dir.empty()) return std::nullopt;
  const std::string release = version->substr(0, version->find(' '));
  const std::string copy = dir + "/" + vmlinux_name_for(release);
  struct stat src {
  }, dst{};
  if (::stat(bzimage.c_str(), &src) != 0 || ::stat(copy.c_str(), &dst) != 0 ||
      !S_ISREG(dst.st_mode))
    return std::nullopt;
  std::ifstream stamp(copy + ".source");
  std::string size_line, version_line;
  if (!std::getline(stamp, size_line) || !std::getline(stamp, version_line)) return std::nullopt;
  if (size_line != std::to_string(src.st_size) || version_line != *version) return std::nullopt;
  return copy;
}

}  // namespace runvm::runtime::vm
