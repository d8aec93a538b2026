// `create` (and the first half of `run`): validate the id, load the bundle,
// claim the state directory, start the microVM; a failure rolls everything back.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "base/result.h"
#include "oci/state.h"

namespace runvm::runtime {

struct CreateRequest {
  std::string root;  // --root
  std::string id;
  std::string bundle;          // --bundle; "" = current directory
  std::string console_socket;  // --console-socket
  std::string pid_file;        // --pid-file
  bool no_pivot = false;       // accepted: the rootfs is the guest's
  bool no_new_keyring = false;
  bool systemd_cgroup = false;  // --systemd-cgroup (runtime/vm/host_cgroup.h)
  int preserve_fds = 0;         // only 0: see preserve_fds_unsupported
  // runvm leaves (create, run --detach): the terminal then needs --console-socket.
  bool detach = true;
  // --debug lines (the caller's logger); may be empty.
  std::function<void(std::string_view)> debug;
};

// On success the container is "created" and its state is returned. On failure
// no state directory for the id is left behind (unless it existed before).
// Errors carry no "create <id>" prefix; the caller adds its own verb.
[[nodiscard]] Result<oci::State> create_container(const CreateRequest& req);

// `--preserve-fds N` (create, run, exec) with N > 0: a host file descriptor
// cannot be handed to a process in another kernel, so runvm refuses instead of
// starting the process without the descriptors it was promised.
[[nodiscard]] Error preserve_fds_unsupported(int n);

}  // namespace runvm::runtime
