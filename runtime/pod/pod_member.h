// A pod's app container ("member") joins its sandbox's running microVM instead of
// booting one: join_pod() (create) places its rootfs and bind mounts into the pod VMM's
// shares and rewrites its config to the guest's paths; leave_pod() (delete, or a failed
// create) removes it from the guest and the VMM again. README.md has the whole picture.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "base/result.h"
#include "runtime/bundle.h"
#include "runtime/pod/pod_plan.h"

namespace runvm::runtime::pod {

struct JoinRequest {
  std::string root;        // the state directory's root (--root): the sandbox is there
  std::string id;          // the member's container id
  std::string sandbox_id;  // from its annotations (pod_role.h)
};

// On success `config` (the bundle's config.json document) names guest paths: its bind
// mounts become binds of the pod volume share. Errors name the sandbox or the mount;
// on error nothing is left placed.
[[nodiscard]] Result<PodPlan> join_pod(const JoinRequest& req, const Bundle& bundle,
                                       nlohmann::json& config);

// Destroys the member in the guest (when the pod VM still runs), detaches its mounts
// from the VMM and removes its directories in the pod shares. Best effort to the end:
// the first error is returned after every step was tried.
[[nodiscard]] Status leave_pod(const PodPlan& plan, const std::string& id);

// The pod VM's runvm-vmm: the child of the sandbox's supervisor (host pid), 0 if none.
[[nodiscard]] pid_t find_pod_vmm(pid_t supervisor);

}  // namespace runvm::runtime::pod
