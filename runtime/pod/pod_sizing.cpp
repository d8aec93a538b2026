#include "runtime/pod/pod_sizing.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <optional>

#include "runtime/vm/vm_sizing.h"

namespace runvm::runtime::pod {

namespace {

// The annotation's value as a non-negative integer; nothing when absent.
Result<std::optional<uint64_t>> number(const std::map<std::string, std::string>& a,
                                       const char* key) {
  auto it = a.find(key);
  if (it == a.end() || it->second.empty()) return std::optional<uint64_t>();
  const std::string& s = it->second;
  // CRI writes -1 for "no quota": no limit, as when absent.
  if (s == "-1") return std::optional<uint64_t>();
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size())
    return Error(std::string("annotation ") + key + ": \"" + s + "\" is not a number", EINVAL);
  return std::optional<uint64_t>(v);
}

}  // namespace

Status size_pod_vm(vm::VmSettings& s, const std::map<std::string, std::string>& annotations) {
  auto memory = number(annotations, kCriSandboxMemory);
  if (!memory) return memory.error();
  auto quota = number(annotations, kCriSandboxCpuQuota);
  if (!quota) return quota.error();
  auto period = number(annotations, kCriSandboxCpuPeriod);
  if (!period) return period.error();
  if (*memory && **memory > 0 && !annotations.contains("io.runvm.vm.memory_mib")) {
    const uint64_t mib = (**memory + (1 << 20) - 1) >> 20;
    s.memory_mib = std::min(
        {s.memory_mib + mib, vm::kMaxVmMemoryMib, std::max(s.max_memory_mib, s.memory_mib)});
  }
  const uint64_t per = period->value_or(100000);
  if (*quota && **quota > 0 && per > 0 && !annotations.contains("io.runvm.vm.vcpus")) {
    const uint64_t extra = (**quota + per - 1) / per;
    s.vcpus = static_cast<unsigned>(
        std::min<uint64_t>({s.vcpus + extra, vm::kMaxVcpus, std::max(s.max_vcpus, s.vcpus)}));
  }
  return {};
}

}  // namespace runvm::runtime::pod
