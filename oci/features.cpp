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
     "guest memory in MiB (integer, 64..1048576; default 256)"},
    {kAnnotationVcpus, KnobType::kPositiveInt, "", "number of vCPUs (integer, 1..255; default 1)"},
    {kAnnotationKernel, KnobType::kAbsolutePath, "",
     "guest kernel image (absolute path; default: the installed runvm guest kernel)"},
    {kAnnotationInitrd, KnobType::kAbsolutePath, "",
     "guest initramfs (absolute path; default: the installed runvm guest initramfs)"},
    {kAnnotationKernelParams, KnobType::kString, "",
     "extra guest kernel command line parameters, appended to runvm's"},
    {kAnnotationSharedFs, KnobType::kEnum, "virtiofs|9p",
     "how the rootfs is shared into the guest (virtiofs or 9p; default virtiofs)"},
};

struct IntRange {
  uint64_t lo, hi;
};

IntRange int_range(std::string_view name) {
  if (name == kAnnotationMemoryMib) return {64, 1048576};
  if (name == kAnnotationVcpus) return {1, 255};
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
