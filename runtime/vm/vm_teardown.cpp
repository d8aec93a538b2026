#include "runtime/vm/vm_teardown.h"

#include "runtime/pod/pod_member.h"

namespace runvm::runtime::vm {

Status release_outside_state(const VmLayout& layout, const std::string& id) {
  Status first;
  if (auto plan = read_plan(layout); plan && plan->pod.member())
    if (auto ok = pod::leave_pod(plan->pod, id); !ok) first = std::move(ok);
  if (auto ok = remove_host_cgroup_of(layout); !ok && first) first = std::move(ok);
  return first;
}

}  // namespace runvm::runtime::vm
