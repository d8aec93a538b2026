// What a killed supervisor leaves in a network namespace it did not create: the
// veth's ingress qdisc with the redirect to the (now gone) tap. The supervisor
// records the attached link in <state>/net-attached (vm_layout.h); `delete`,
// after SIGKILLing a running container, removes the qdisc from a forked child that
// joins the namespace of the config's path. A namespace the supervisor created
// died with it and needs nothing.
#pragma once

#include <string>

#include "base/result.h"
#include "runtime/vm/vm_layout.h"

namespace runvm::runtime::vm {

// Records (in the supervisor, after attach) which link carries the redirect.
[[nodiscard]] Status record_net_attached(const VmLayout& layout, int link_ifindex);

// Undoes a recorded attach of a container whose supervisor is gone. No record: nothing.
[[nodiscard]] Status cleanup_net_after_kill(const VmLayout& layout);

}  // namespace runvm::runtime::vm
