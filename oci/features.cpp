#include "oci/features.h"

#include <algorithm>
#include <charconv>

#include "oci/names.h"
#include "oci/spec.h"

#ifndef RUNVM_VERSION
#define RUNVM_VERSION "0.0.0"
#endif

namespace runvm::oci {
namespace {

constexpr VmKnob kKnobs[] = {
    {kAnnotationMemoryMib, KnobType::kPositiveInt, "",
     "guest memory in MiB (64..1048576; default 512 plus the container's memory limit), up to "
     "the host's max_memory_mib"},
    {kAnnotationVcpus, KnobType::kPositiveInt, "",
     "vCPUs (1..64; default 1 plus ceil(cpu quota/period)), up to the host's max_vcpus"},
    {kAnnotationKernel, KnobType::kAbsolutePath, "",
     "guest kernel: a file in the guest image's directory or the host's annotation_dirs, or a "
     "vmlinuz*/vmlinux* next to the configured kernel"},
    {kAnnotationInitrd, KnobType::kAbsolutePath, "",
     "guest image: a file in the guest image's directory or the host's annotation_dirs"},
    {kAnnotationBootTimeout, KnobType::kPositiveInt, "",
     "seconds the guest agent has to answer after the VM starts (1..3600; default 180)"},
    {kAnnotationRootfsCache, KnobType::kEnum, "none|auto|always",
     "virtio-fs cache mode of the rootfs (default always)"},
    {kAnnotationRootfsWriteback, KnobType::kEnum, "true|false",
     "virtio-fs writeback caching of the rootfs (default false)"},
    {kAnnotationVolumeCache, KnobType::kEnum, "none|auto|always",
     "virtio-fs cache mode of bind-mounted host directories (default auto)"},
    {kAnnotationUncompressedKernel, KnobType::kEnum, "true|false",
     "boot the kernel's uncompressed copy beside the guest image when it is current "
     "(default true)"},
};

struct IntRange {
  uint64_t lo, hi;
};

IntRange int_range(std::string_view name) {
  if (name == kAnnotationMemoryMib) return {64, 1048576};
  if (name == kAnnotationVcpus) return {1, 64};
  if (name == kAnnotationBootTimeout) return {1, 3600};
  return {1, UINT64_MAX};
}

template <class Span>
nlohmann::json string_array(const Span& s) {
  nlohmann::json a = nlohmann::json::array();
  for (const auto& e : s) a.push_back(std::string(e));
  return a;
}

}  // namespace

std::span<const VmKnob> vm_knobs() {
  return kKnobs;
}

const VmKnob* find_vm_knob(std::string_view name) {
  for (const auto& k : kKnobs) {
    if (k.name == name) return &k;
  }
  return nullptr;
}

std::optional<std::string> check_vm_knob(const VmKnob& knob, std::string_view value) {
  switch (knob.type) {
    case KnobType::kPositiveInt: {
      IntRange r = int_range(knob.name);
      uint64_t v = 0;
      auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
      bool digits = !value.empty() && value[0] >= '0' && value[0] <= '9';
      if (!digits || ec != std::errc() || p != value.data() + value.size() || v < r.lo ||
          v > r.hi) {
        return "must be an integer in [" + std::to_string(r.lo) + ", " + std::to_string(r.hi) +
               "], got \"" + std::string(value) + "\"";
      }
      return std::nullopt;
    }
    case KnobType::kAbsolutePath:
      if (value.empty() || value[0] != '/') return "must be an absolute path";
      return std::nullopt;
    case KnobType::kString:
      return std::nullopt;
    case KnobType::kEnum: {
      std::string_view allowed = knob.allowed;
      size_t start = 0;
      while (true) {
        size_t bar = allowed.find('|', start);
        if (allowed.substr(start, bar == allowed.npos ? allowed.npos : bar - start) == value) {
          return std::nullopt;
        }
        if (bar == allowed.npos) break;
        start = bar + 1;
      }
      std::string want(allowed);
      std::replace(want.begin(), want.end(), '|', ',');
      return "must be one of " + want + ", got \"" + std::string(value) + "\"";
    }
  }
  return std::nullopt;
}

nlohmann::json features(const FeaturesOptions& opts) {
  using json = nlohmann::json;
  json caps = json::array();
  for (const auto& c : capabilities()) caps.push_back(std::string(c.name));

  json f = json::object();
  f["ociVersionMin"] = "1.0.0";
  f["ociVersionMax"] = kSpecVersion;
  f["hooks"] = string_array(hook_names());
  f["mountOptions"] = string_array(mount_options());
  json linux = json::object();
  linux["namespaces"] = string_array(namespace_types());
  linux["capabilities"] = caps;
  // Limits are applied inside the guest, whose kernel runs cgroup v2.
  linux["cgroup"] = {
      {"v1", false}, {"v2", true}, {"systemd", false}, {"systemdUser", false}, {"rdma", false}};
  linux["seccomp"] = {
      {"enabled", true},
      {"actions", string_array(seccomp_actions())},
      {"operators", string_array(seccomp_operators())},
      {"archs", string_array(seccomp_archs())},
      {"knownFlags", string_array(seccomp_flags())},
      {"supportedFlags", json::array({"SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG",
                                      "SECCOMP_FILTER_FLAG_SPEC_ALLOW"})},
  };
  linux["apparmor"] = {{"enabled", false}};
  linux["selinux"] = {{"enabled", false}};
  linux["intelRdt"] = {{"enabled", false}};
  linux["mountExtensions"] = {{"idmap", {{"enabled", false}}}};
  f["linux"] = std::move(linux);

  json ann = json::object();
  ann["org.runvm.version"] = RUNVM_VERSION;
  ann["org.runvm.isolation"] = "microvm";
  for (const auto& [k, v] : opts.annotations) ann[k] = v;
  f["annotations"] = std::move(ann);

  json knobs = json::object();
  for (const auto& k : kKnobs) knobs[std::string(k.name)] = std::string(k.description);
  f["org.runvm"] = {{"vmAnnotations", std::move(knobs)}};
  return f;
}

}  // namespace runvm::oci
