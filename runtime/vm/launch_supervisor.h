// create's part: resolve the VM settings, write the plan, start the supervisor
// (`runvm __supervise`) and wait until it reports the container created.
#pragma once

#include <string>

#include "base/result.h"
#include "oci/state.h"
#include "runtime/bundle.h"

namespace runvm::runtime::vm {

struct LaunchRequest {
  std::string container_dir;  // the container's state directory
  std::string id;
  std::string pid_file;         // "" = none
  std::string console_socket;   // terminal=true: where the pty master goes ("" = our stdio)
  bool systemd_cgroup = false;  // --systemd-cgroup: cgroupsPath is slice:prefix:name
};

// On success state.pid, pid_start_time and the socket paths are filled and the
// pid file written. On failure nothing started is left running.
[[nodiscard]] Status launch_vm(const LaunchRequest& req, const Bundle& bundle, oci::State& state);

}  // namespace runvm::runtime::vm
