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

// The first entry of `dir` other than . and .., read from the start; "" when empty.
Result<std::string> first_entry(int dir, bool* is_dir) {
  // A fresh open: each call lists from the start, and closedir() owns this fd.
  int fd = ::openat(dir, ".", kDirFlags);
  if (fd < 0) return Error::from_errno("open");
  DIR* d = ::fdopendir(fd);
  if (!d) {
    int e = errno;
    ::close(fd);
    return Error::from_errno("fdopendir", e);
  }
  std::string name;
  errno = 0;
  while (dirent* e = ::readdir(d)) {
    std::string_view n(e->d_name);
    if (n == "." || n == "..") continue;
    name = e->d_name;
    if (e->d_type == DT_UNKNOWN) {
      struct stat st {};
      *is_dir = ::fstatat(dir, e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
    } else {
      *is_dir = e->d_type == DT_DIR;
    }
    break;
  }
  int err = errno;
  ::closedir(d);
  if (name.empty() && err != 0) return Error::from_errno("readdir", err);
  return name;
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
    bool is_dir = false;
    auto name = first_entry(cur.get(), &is_dir);
    if (!name) return std::move(name).error().wrap("remove " + where());
    if (!name->empty() && !is_dir) {
      if (::unlinkat(cur.get(), name->c_str(), 0) != 0 && errno != ENOENT)
        return Error::from_errno("remove " + where() + "/" + *name);
      continue;
    }
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
