#include "guest-init/process_setup.h"

#include <fcntl.h>
#include <grp.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "oci/names.h"

namespace runvm::guest {
namespace {

Status write_file(const std::string& path, const std::string& value) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return Error::from_errno("open " + path);
  ssize_t n = ::write(fd, value.data(), value.size());
  int e = errno;
  ::close(fd);
  if (n != static_cast<ssize_t>(value.size()))
    return Error::from_errno("write " + path, n < 0 ? e : EIO);
  return {};
}

}  // namespace

Status apply_rlimits(const std::vector<oci::Rlimit>& rlimits) {
  for (size_t i = 0; i < rlimits.size(); ++i) {
    const auto& r = rlimits[i];
    std::string where = "rlimits[" + std::to_string(i) + "]";
    auto n = oci::rlimit_number(r.type);
    if (!n) return Error(where + ": unknown type \"" + r.type + "\"", EINVAL);
    struct rlimit lim {
      static_cast<rlim_t>(r.soft), static_cast<rlim_t>(r.hard)
    };
    if (setrlimit(static_cast<__rlimit_resource>(*n), &lim) < 0)
      return Error::from_errno(where + ": setrlimit " + r.type);
  }
  return {};
}

Status apply_user(const oci::User& u) {
  std::vector<gid_t> groups;
  if (u.additionalGids) groups.assign(u.additionalGids->begin(), u.additionalGids->end());
  if (setgroups(groups.size(), groups.data()) < 0) return Error::from_errno("setgroups");
  if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) return Error::from_errno("PR_SET_KEEPCAPS");
  if (setresgid(u.gid, u.gid, u.gid) < 0)
    return Error::from_errno("setgid " + std::to_string(u.gid));
  if (setresuid(u.uid, u.uid, u.uid) < 0)
    return Error::from_errno("setuid " + std::to_string(u.uid));
  if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0) return Error::from_errno("PR_SET_KEEPCAPS");
  if (u.umask) ::umask(static_cast<mode_t>(*u.umask & 0777));
  return {};
}

Status apply_oom_score_adj(int value) {
  return write_file("/proc/self/oom_score_adj", std::to_string(value));
}

Status set_no_new_privileges() {
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) return Error::from_errno("PR_SET_NO_NEW_PRIVS");
  return {};
}

Status apply_hostname(const std::optional<std::string>& hostname,
                      const std::optional<std::string>& domainname) {
  if (hostname && sethostname(hostname->data(), hostname->size()) < 0)
    return Error::from_errno("sethostname \"" + *hostname + "\"");
  if (domainname && setdomainname(domainname->data(), domainname->size()) < 0)
    return Error::from_errno("setdomainname \"" + *domainname + "\"");
  return {};
}

Status apply_sysctls(const oci::StringMap& sysctl) {
  for (const auto& [key, value] : sysctl) {
    std::string rel = key;
    for (char& c : rel)
      if (c == '.') c = '/';
    if (rel.empty() || rel.find("//") != std::string::npos || rel.front() == '/' ||
        rel.back() == '/' || key.find('/') != std::string::npos)
      return Error("sysctl \"" + key + "\": invalid name", EINVAL);
    if (auto s = write_file("/proc/sys/" + rel, value); !s) return s.error().wrap("sysctl " + key);
  }
  return {};
}

}  // namespace runvm::guest
