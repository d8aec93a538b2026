#include "runtime/vm/vm_layout.h"

#include <cerrno>

#include <nlohmann/json.hpp>

#include "base/file_io.h"
#include "oci/state.h"

namespace runvm::runtime::vm {

Status write_plan(const VmLayout& layout, const VmPlan& plan) {
  nlohmann::json j = {{"id", plan.id},
                      {"config_path", plan.config_path},
                      {"rootfs", plan.rootfs},
                      {"rootfs_readonly", plan.rootfs_readonly},
                      {"settings", plan.settings.to_json()},
                      {"namespaces", plan.namespaces.to_json()},
                      {"cgroup", plan.cgroup.to_json()}};
  if (plan.oom_score_adj) j["oom_score_adj"] = *plan.oom_score_adj;
  if (plan.pod.role != pod::PodRole::kStandalone) j["pod"] = plan.pod.to_json();
  return write_file_atomic(layout.plan(), j.dump(2) + "\n");
}

Result<VmPlan> read_plan(const VmLayout& layout) {
  auto text = read_file(layout.plan());
  if (!text) return text.error();
  nlohmann::json j = nlohmann::json::parse(*text, nullptr, false);
  if (!j.is_object()) return Error(layout.plan() + ": not a JSON object", EINVAL);
  try {
    VmPlan p;
    p.id = j.at("id").get<std::string>();
    p.config_path = j.at("config_path").get<std::string>();
    p.rootfs = j.at("rootfs").get<std::string>();
    p.rootfs_readonly = j.at("rootfs_readonly").get<bool>();
    auto s = VmSettings::from_json(j.at("settings"));
    if (!s) return s.error().wrap(layout.plan());
    p.settings = *s;
    auto ns = HostNamespaces::from_json(j.at("namespaces"));
    if (!ns) return ns.error().wrap(layout.plan());
    p.namespaces = *ns;
    if (j.contains("oom_score_adj")) p.oom_score_adj = j.at("oom_score_adj").get<int>();
    if (j.contains("pod")) {
      auto pod = pod::PodPlan::from_json(j.at("pod"));
      if (!pod) return pod.error().wrap(layout.plan());
      p.pod = std::move(*pod);
    }
    if (j.contains("cgroup")) {
      auto cg = HostCgroup::from_json(j.at("cgroup"));
      if (!cg) return cg.error().wrap(layout.plan());
      p.cgroup = std::move(*cg);
    }
    return p;
  } catch (const nlohmann::json::exception& e) {
    return Error(layout.plan() + ": " + e.what(), EINVAL);
  }
}

Status remove_host_cgroup_of(const VmLayout& layout) {
  auto plan = read_plan(layout);
  if (!plan && plan.error().err == ENOENT) return {};  // create never got as far as a cgroup
  if (!plan) return plan.error().wrap("host cgroup");
  return remove_host_cgroup(plan->cgroup.dir);
}

}  // namespace runvm::runtime::vm
