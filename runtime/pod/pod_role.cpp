#include "runtime/pod/pod_role.h"

#include <cerrno>

namespace runvm::runtime::pod {

Result<PodMembership> pod_membership(const std::map<std::string, std::string>& annotations) {
  for (auto [type_key, sandbox_key] : {std::pair{kCriContainerType, kCriSandboxId},
                                       std::pair{kCrioContainerType, kCrioSandboxId}}) {
    auto type = annotations.find(type_key);
    if (type == annotations.end()) continue;
    if (type->second == "sandbox") return PodMembership{PodRole::kSandbox, ""};
    if (type->second != "container")
      return Error(std::string("annotation ") + type_key + ": \"" + type->second +
                       "\" is neither sandbox nor container",
                   EINVAL);
    auto sandbox = annotations.find(sandbox_key);
    if (sandbox == annotations.end() || sandbox->second.empty())
      return Error(
          std::string("annotation ") + sandbox_key + ": a pod's container must name its sandbox",
          EINVAL);
    return PodMembership{PodRole::kMember, sandbox->second};
  }
  return PodMembership{};
}

}  // namespace runvm::runtime::pod
