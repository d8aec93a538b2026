#include "base/file_io.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <vector>

#include "base/unique_fd.h"

namespace runvm {

namespace {

std::string dir_of(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string base_of(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace

Result<std::string> read_file(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return Error::from_errno("open " + path);
  std::string out;
  char buf[16384];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error::from_errno("read " + path);
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

Status write_file_atomic(const std::string& path, std::string_view data, unsigned mode) {
  const std::string dir = dir_of(path);
  std::string tmp = dir + "/." + base_of(path) + ".tmp-XXXXXX";
  std::vector<char> name(tmp.begin(), tmp.end());
  name.push_back('\0');
  int raw = ::mkostemp(name.data(), O_CLOEXEC);
  if (raw < 0) return Error::from_errno("create temp file in " + dir);
  tmp.assign(name.data());
  UniqueFd fd(raw);
  auto fail = [&](const std::string& what) {
    Error e = Error::from_errno(what + " " + tmp);
    ::unlink(tmp.c_str());
    return e;
  };
  if (::fchmod(fd.get(), mode) < 0) return fail("chmod");
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd.get(), data.data() + off, data.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail("write");
    }
    off += static_cast<size_t>(n);
  }
  if (::fsync(fd.get()) < 0) return fail("fsync");
  if (fd.close() < 0) return fail("close");
  if (::rename(tmp.c_str(), path.c_str()) < 0) {
    Error e = Error::from_errno("rename " + tmp + " to " + path);
    ::unlink(tmp.c_str());
    return e;
  }
  // Make the rename itself durable.
  if (UniqueFd dfd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)); dfd.valid())
    ::fsync(dfd.get());
  return {};
}

Status write_control_file(const std::string& path, std::string_view value) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd.valid()) return Error::from_errno("open " + path);
  ssize_t n = ::write(fd.get(), value.data(), value.size());
  if (n != static_cast<ssize_t>(value.size())) {
    return Error::from_errno("write \"" + std::string(value) + "\" to " + path,
                             n < 0 ? errno : EIO);
  }
  return {};
}

Status write_all(int fd, std::string_view data) {
  // A virtio-serial port or a pipe is no socket: plain write there.
  bool socket = true;
  while (!data.empty()) {
    ssize_t n = socket ? ::send(fd, data.data(), data.size(), MSG_NOSIGNAL)
                       : ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == ENOTSOCK && socket) {
        socket = false;
        continue;
      }
      return Error::from_errno("write");
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return {};
}

std::string log_tail(const std::string& path, size_t max) {
  auto all = read_file(path);
  if (!all) return "";
  std::string t = all->size() > max ? all->substr(all->size() - max) : *all;
  for (char& c : t)
    if (c == '\n' || c == '\r') c = ' ';
  return t;
}

}  // namespace runvm
