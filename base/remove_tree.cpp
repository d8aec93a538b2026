#include "base/remove_tree.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "base/unique_fd.h"

namespace runvm {

namespace {

constexpr int kDirFlags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;

// One pass over `dir`: removes every entry that is not a directory and returns
// the name of the first subdirectory met ("" when none is left). Each call
// lists from the start, so entries removed meanwhile never confuse it.
Result<std::string> clear_files(int dir) {
  int fd = ::openat(dir, ".", kDirFlags);  // closedir() owns it
  if (fd < 0) return Error::from_errno("open");
  DIR* d = ::fdopendir(fd);
  if (!d) {
    int e = errno;
    ::close(fd);
    return Error::from_errno("fdopendir", e);
  }
  std::string subdir;
  Status failed;
  errno = 0;
  while (dirent* e = ::readdir(d)) {
    std::string_view n(e->d_name);
    if (n == "." || n == "..") continue;
    bool is_dir = e->d_type == DT_DIR;
    if (e->d_type == DT_UNKNOWN) {
      struct stat st {};
      is_dir = ::fstatat(dir, e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
    }
    if (is_dir) {
      if (subdir.empty()) subdir = e->d_name;
    } else if (::unlinkat(dir, e->d_name, 0) != 0 && errno != ENOENT) {
      failed = Error::from_errno(std::string("remove ") + e->d_name);
      break;
    }
    errno = 0;
  }
  int err = errno;
  ::closedir(d);
  if (!failed) return failed.error();
  if (err != 0) return Error::from_errno("readdir", err);
  return subdir;
}

}  // namespace

Status remove_tree(const std::string& path) {
  UniqueFd cur(::open(path.c_str(), kDirFlags));
  if (!cur.valid()) {
    if (errno == ENOENT) return {};
    if (errno == ENOTDIR || errno == ELOOP) {
      if (::unlink(path.c_str()) == 0 || errno == ENOENT) return {};
    }
    return Error::from_errno("remove " + path);
  }
  struct stat root {};
  if (::fstat(cur.get(), &root) != 0) return Error::from_errno("stat " + path);
  // Names from `path` down to the directory `cur` is; only the names are kept,
  // the way back up is "..", so the fds in use stay at two whatever the depth.
  std::vector<std::string> names;
  auto where = [&] {
    std::string p = path;
    for (const auto& n : names) p += "/" + n;
    return p;
  };
  while (true) {
    auto name = clear_files(cur.get());
    if (!name) return std::move(name).error().wrap("remove " + where());
    if (!name->empty()) {
      UniqueFd child(::openat(cur.get(), name->c_str(), kDirFlags));
      if (!child.valid()) return Error::from_errno("open " + where() + "/" + *name);
      struct stat st {};
      if (::fstat(child.get(), &st) != 0) return Error::from_errno("stat " + where() + "/" + *name);
      if (st.st_dev != root.st_dev)
        return Error("remove " + path + ": " + where() + "/" + *name + " is a mountpoint", EXDEV);
      names.push_back(std::move(*name));
      cur = std::move(child);
      continue;
    }
    // `cur` is empty: step up and remove it.
    if (names.empty()) break;
    UniqueFd parent(::openat(cur.get(), "..", kDirFlags));
    if (!parent.valid()) return Error::from_errno("open the parent of " + where());
    cur = std::move(parent);
    std::string done = std::move(names.back());
    names.pop_back();
    if (::unlinkat(cur.get(), done.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT)
      return Error::from_errno("remove " + where() + "/" + done);
  }
  cur.reset();
  if (::rmdir(path.c_str()) != 0 && errno != ENOENT) return Error::from_errno("remove " + path);
  return {};
}

}  // namespace runvm
