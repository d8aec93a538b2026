#include "vmm/devices/legacy/console_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <memory>

namespace runvm::vmm {

namespace {

int open_log(const std::string& path, int extra) {
  return ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | extra, 0640);
}

}  // namespace

Result<std::unique_ptr<ConsoleLog>> ConsoleLog::open(const std::string& path, uint64_t max_bytes) {
  if (max_bytes == 0) return Error("console file " + path + ": a maximum size of 0 bytes");
  UniqueFd fd(open_log(path, 0));
  if (!fd.valid()) return Error::from_errno("open console file " + path);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return Error::from_errno("stat console file " + path);
  return std::unique_ptr<ConsoleLog>(
      new ConsoleLog(path, std::move(fd), static_cast<uint64_t>(st.st_size), max_bytes));
}

void ConsoleLog::write(uint8_t b) {
  std::lock_guard lk(mu_);
  if (size_ >= max_) rotate_locked();
  if (!fd_.valid()) return;
  // EINTR is not retried: on a vCPU thread it means the VM is stopping.
  if (::write(fd_.get(), &b, 1) == 1) ++size_;
}

void ConsoleLog::rotate_locked() {
  // Whatever happens, the file stops growing: without a new file, output is lost.
  fd_.reset();
  size_ = 0;
  const std::string old = path_ + ".1";
  if (::rename(path_.c_str(), old.c_str()) != 0) return;
  fd_ = UniqueFd(open_log(path_, O_TRUNC));
}

}  // namespace runvm::vmm
