// Which part of a Kubernetes pod a container is, from the annotations containerd's CRI
// plugin (and CRI-O) put in its config.json: the sandbox ("pause") container boots the
// pod's microVM; every other container of the pod runs in that VM (README.md).
#pragma once

#include <map>
#include <string>

#include "base/result.h"

namespace runvm::runtime::pod {

enum class PodRole {
  kStandalone,  // no CRI annotations (Docker, ctr, runvm run): a VM of its own
  kSandbox,     // the pod's sandbox container: boots the pod VM
  kMember,      // an app container: runs in its sandbox's VM
};

struct PodMembership {
  PodRole role = PodRole::kStandalone;
  std::string sandbox_id;  // kMember: the sandbox container's id (same --root)
};

// containerd's keys, then CRI-O's. A container type other than sandbox/container, or an
// app container without its sandbox's id, is an error naming the annotation.
[[nodiscard]] Result<PodMembership> pod_membership(
    const std::map<std::string, std::string>& annotations);

inline constexpr const char* kCriContainerType = "io.kubernetes.cri.container-type";
inline constexpr const char* kCriSandboxId = "io.kubernetes.cri.sandbox-id";
inline constexpr const char* kCrioContainerType = "io.kubernetes.cri-o.ContainerType";
inline constexpr const char* kCrioSandboxId = "io.kubernetes.cri-o.SandboxID";

}  // namespace runvm::runtime::pod
