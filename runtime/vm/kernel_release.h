// The release string ("6.1.0-27-cloud-amd64") of a guest kernel image, read from
// its bzImage setup header (Linux boot protocol: "HdrS" at 0x202, kernel_version
// at 0x20E pointing 0x200 bytes before the string). runvm pairs a kernel with the
// guest image built from that release's modules (runvm-initrd-<release>.img), so
// it never boots a kernel whose modules the image does not carry.
#pragma once

#include <string>
#include <string_view>

#include "base/result.h"

namespace runvm::runtime::vm {

// The whole version string of the bzImage at `path` ("6.1.0-27-cloud-amd64
// (debian-kernel@lists.debian.org) #1 SMP PREEMPT_DYNAMIC Debian 6.1.115-1 (2024-11-01)"):
// two builds of one release differ in it. Errors as kernel_release().
[[nodiscard]] Result<std::string> kernel_version(const std::string& path);

// The release of the bzImage at `path`. ENOEXEC when the file is not a bzImage
// with a version string (an ELF vmlinux has none), ENOENT/EACCES as open(2).
[[nodiscard]] Result<std::string> kernel_release(const std::string& path);

// "runvm-initrd-<release>.img" -> "<release>"; "" for any other file name.
[[nodiscard]] std::string image_release(std::string_view file_name);

// The versioned guest image name for a kernel release.
[[nodiscard]] std::string image_name_for(std::string_view release);

// "runvm-vmlinux-<release>": that kernel uncompressed, beside its guest image
// (uncompressed_kernel.h).
[[nodiscard]] std::string vmlinux_name_for(std::string_view release);

}  // namespace runvm::runtime::vm
