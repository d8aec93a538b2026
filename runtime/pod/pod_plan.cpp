#include "runtime/pod/pod_plan.h"

#include <cerrno>

namespace runvm::runtime::pod {

namespace {
const char* role_name(PodRole r) {
  switch (r) {
    case PodRole::kSandbox:
      return "sandbox";
    case PodRole::kMember:
      return "member";
    default:
      return "standalone";
  }
}
}  // namespace

nlohmann::json PodPlan::to_json() const {
  nlohmann::json j{{"role", role_name(role)}};
  if (member()) {
    j["sandbox_id"] = sandbox_id;
    j["sandbox_dir"] = sandbox_dir;
    j["name"] = name;
    j["guest_rootfs"] = guest_rootfs;
    j["vmm_pid"] = vmm_pid;
    j["vmm_start_time"] = vmm_start_time;
    j["injected"] = injected;
    j["volume_keys"] = volume_keys;
    j["rootfs_id"] = rootfs_id;
  }
  return j;
}

Result<PodPlan> PodPlan::from_json(const nlohmann::json& j) {
  PodPlan p;
  try {
    const std::string role = j.at("role").get<std::string>();
    if (role == "sandbox") {
      p.role = PodRole::kSandbox;
    } else if (role == "member") {
      p.role = PodRole::kMember;
      p.sandbox_id = j.at("sandbox_id").get<std::string>();
      p.sandbox_dir = j.at("sandbox_dir").get<std::string>();
      p.name = j.at("name").get<std::string>();
      p.guest_rootfs = j.at("guest_rootfs").get<std::string>();
      p.vmm_pid = j.at("vmm_pid").get<pid_t>();
      p.vmm_start_time = j.at("vmm_start_time").get<uint64_t>();
      p.injected = j.at("injected").get<std::vector<std::string>>();
      p.volume_keys = j.value("volume_keys", std::vector<std::string>{});
      p.rootfs_id = j.value("rootfs_id", std::string());
    } else if (role != "standalone") {
      return Error("pod: unknown role \"" + role + "\"", EINVAL);
    }
  } catch (const nlohmann::json::exception& e) {
    return Error(std::string("pod: ") + e.what(), EINVAL);
  }
  return p;
}

}  // namespace runvm::runtime::pod
