#include "runtime/vm/net_cleanup.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>

#include "base/file_io.h"
#include "base/unique_fd.h"
#include "runtime/net/tc_redirect.h"

namespace runvm::runtime::vm {

Status record_net_attached(const VmLayout& layout, int link_ifindex) {
  return write_file_atomic(layout.net_attached(), std::to_string(link_ifindex) + "\n");
}

Status cleanup_net_after_kill(const VmLayout& layout) {
  auto text = read_file(layout.net_attached());
  if (!text) return {};  // nothing attached
  int ifindex = std::atoi(text->c_str());
  auto plan = read_plan(layout);
  if (!plan) return plan.error().wrap("network cleanup");
  const std::string& path = plan->namespaces.net_path;
  if (path.empty() || ifindex <= 0) return {};
  UniqueFd ns(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!ns.valid()) return {};  // the namespace is gone, and the qdisc with it
  // setns in a child: the caller's own network namespace must not change.
  pid_t pid = ::fork();
  if (pid < 0) return Error::from_errno("fork for network cleanup");
  if (pid == 0) {
    if (::setns(ns.get(), CLONE_NEWNET) != 0) ::_exit(2);
    ::_exit(net::remove_ingress(ifindex) ? 0 : 1);
  }
  int ws = 0;
  while (::waitpid(pid, &ws, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(ws) || WEXITSTATUS(ws) != 0)
    return Error("remove the redirect from link " + std::to_string(ifindex) + " in " + path, EIO);
  return {};
}

}  // namespace runvm::runtime::vm
