// `runvm check`: can this host run runvm containers? Each check is a line a node
// operator can act on: what was found and, when it is a problem, what to install
// or change. Only FAIL results make containers impossible; WARN ones cost a
// feature (host cgroup limits, networking).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace runvm::runtime {

enum class CheckLevel { kOk, kWarn, kFail };

struct CheckResult {
  std::string name;
  CheckLevel level = CheckLevel::kOk;
  std::string detail;  // what was found
  std::string fix;     // what to do (empty when ok)
};

// What the KVM check looks at, probed by probe_kvm() and judged by judge_kvm()
// (separate so each verdict is unit-tested without the hardware).
struct KvmFacts {
  bool device = false;                                // /dev/kvm is a character device
  int open_errno = 0;                                 // open(O_RDWR) failure, 0 when it opened
  int api_version = -1;                               // KVM_GET_API_VERSION
  int create_vm_errno = 0;                            // KVM_CREATE_VM failure
  bool vmx = false, svm = false, hypervisor = false;  // /proc/cpuinfo flags
  std::vector<std::string> modules;                   // loaded kvm_intel/kvm_amd/kvm_pvm
};
[[nodiscard]] KvmFacts probe_kvm();
[[nodiscard]] CheckResult judge_kvm(const KvmFacts& facts);

// Every check, in order: kvm, guest (kernel, image, runvm-vmm from the system
// config), vsock (a unix socket under `root`), cgroup, tun, privileges.
[[nodiscard]] std::vector<CheckResult> check_host(const std::string& system_config,
                                                  const std::string& root);

[[nodiscard]] bool all_passed(const std::vector<CheckResult>& results);
[[nodiscard]] std::string format_text(const std::vector<CheckResult>& results);
[[nodiscard]] nlohmann::json format_json(const std::vector<CheckResult>& results);

}  // namespace runvm::runtime
