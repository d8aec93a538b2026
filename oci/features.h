// The `runvm features` document (runtime-spec features.md) and the VM knobs
// runvm reads from config.json annotations.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "base/result.h"

namespace runvm::oci {

// ---- VM knobs: annotations "io.runvm.vm.*" in config.json ----
inline constexpr std::string_view kVmAnnotationPrefix = "io.runvm.vm.";
inline constexpr std::string_view kAnnotationMemoryMib = "io.runvm.vm.memory_mib";
inline constexpr std::string_view kAnnotationVcpus = "io.runvm.vm.vcpus";
inline constexpr std::string_view kAnnotationKernel = "io.runvm.vm.kernel";
inline constexpr std::string_view kAnnotationInitrd = "io.runvm.vm.initrd";
inline constexpr std::string_view kAnnotationBootTimeout = "io.runvm.vm.boot_timeout_s";
inline constexpr std::string_view kAnnotationRootfsCache = "io.runvm.vm.rootfs_cache";
inline constexpr std::string_view kAnnotationRootfsWriteback = "io.runvm.vm.rootfs_writeback";
inline constexpr std::string_view kAnnotationVolumeCache = "io.runvm.vm.volume_cache";
inline constexpr std::string_view kAnnotationUncompressedKernel = "io.runvm.vm.uncompressed_kernel";

enum class KnobType { kPositiveInt, kAbsolutePath, kString, kEnum };

struct VmKnob {
  std::string_view name;  // full annotation key
  KnobType type;
  std::string_view allowed;      // for kEnum: values separated by '|'
  std::string_view description;  // one line, shown by `runvm features`
};

// Every io.runvm.vm.* annotation runvm accepts, exactly the keys runtime/vm/vm_settings.h
// takes from a bundle (tests/runtime/vm_settings_test.cpp holds the two together).
// validate() reports any other io.runvm.vm.* key as unknown, and values that do not fit
// the knob's type.
[[nodiscard]] std::span<const VmKnob> vm_knobs();
[[nodiscard]] const VmKnob* find_vm_knob(std::string_view name);
// nullopt if `value` fits the knob, else the reason ("must be a positive integer").
[[nodiscard]] std::optional<std::string> check_vm_knob(const VmKnob& knob, std::string_view value);

// ---- features document ----

struct FeaturesOptions {
  // Extra entries for the "annotations" object, e.g.
  // {"io.github.seccomp.libseccomp.version": "2.5.4"} added by the runtime,
  // which links libseccomp (oci/ does not).
  std::map<std::string, std::string> annotations;
};

// {"ociVersionMin","ociVersionMax","hooks","mountOptions","linux":{namespaces,
//  capabilities,cgroup,seccomp,apparmor,selinux,intelRdt,mountExtensions},
//  "annotations":{...,"org.runvm.version":...},
//  "org.runvm":{"vmAnnotations":{"io.runvm.vm.memory_mib":"<description>",...}}}
[[nodiscard]] nlohmann::json features(const FeaturesOptions& opts = {});

}  // namespace runvm::oci
