#include "vmm/boot/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <utility>

#include "base/unique_fd.h"

namespace runvm::vmm::boot {

MappedFile::MappedFile(MappedFile&& o) noexcept
    : data_(std::exchange(o.data_, nullptr)), size_(std::exchange(o.size_, 0)) {}

MappedFile& MappedFile::operator=(MappedFile&& o) noexcept {
  if (this != &o) {
    reset();
    data_ = std::exchange(o.data_, nullptr);
    size_ = std::exchange(o.size_, 0);
  }
  return *this;
}

void MappedFile::reset() {
  if (data_ != nullptr) ::munmap(const_cast<uint8_t*>(data_), size_);
  data_ = nullptr;
  size_ = 0;
}

Result<MappedFile> MappedFile::open(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return Error::from_errno("open " + path);
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return Error::from_errno("stat " + path);
  if (!S_ISREG(st.st_mode)) return Error(path + ": not a regular file");
  MappedFile f;
  if (st.st_size == 0) return f;
  void* p = ::mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ, MAP_PRIVATE, fd.get(), 0);
  if (p == MAP_FAILED) return Error::from_errno("mmap " + path);
  f.data_ = static_cast<const uint8_t*>(p);
  f.size_ = static_cast<size_t>(st.st_size);
  return f;
}

}  // namespace runvm::vmm::boot
