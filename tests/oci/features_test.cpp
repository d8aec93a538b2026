#include <set>
#include <string>

#include <gtest/gtest.h>

#include "oci/features.h"
#include "oci/names.h"
#include "oci/spec.h"

namespace runvm::oci {
namespace {

using nlohmann::json;

std::set<std::string> as_set(const json& a) {
  std::set<std::string> s;
  for (const auto& e : a) s.insert(e.get<std::string>());
  return s;
}

TEST(Features, DocumentShape) {
  json f = features();
  EXPECT_EQ(f["ociVersionMin"], "1.0.0");
  EXPECT_EQ(f["ociVersionMax"], kSpecVersion);
  EXPECT_EQ(as_set(f["hooks"]),
            (std::set<std::string>{"prestart", "createRuntime", "createContainer", "startContainer",
                                   "poststart", "poststop"}));
  EXPECT_TRUE(as_set(f["mountOptions"]).count("rbind"));
  const json& l = f["linux"];
  EXPECT_EQ(as_set(l["namespaces"]).size(), 8u);
  EXPECT_EQ(l["capabilities"].size(), 41u);
  EXPECT_EQ(l["capabilities"][0], "CAP_CHOWN");
  for (const char* k : {"v1", "v2", "systemd", "systemdUser", "rdma"}) {
    EXPECT_TRUE(l["cgroup"][k].is_boolean()) << k;
  }
  EXPECT_EQ(l["seccomp"]["enabled"], true);
  EXPECT_TRUE(as_set(l["seccomp"]["actions"]).count("SCMP_ACT_NOTIFY"));
  EXPECT_TRUE(as_set(l["seccomp"]["operators"]).count("SCMP_CMP_MASKED_EQ"));
  EXPECT_TRUE(as_set(l["seccomp"]["archs"]).count("SCMP_ARCH_X86_64"));
  EXPECT_TRUE(l["seccomp"]["knownFlags"].is_array());
  EXPECT_TRUE(l["seccomp"]["supportedFlags"].is_array());
  EXPECT_EQ(l["apparmor"]["enabled"], false);
  EXPECT_EQ(l["selinux"]["enabled"], false);
  EXPECT_TRUE(f["annotations"]["org.runvm.version"].is_string());
}

TEST(Features, VmKnobsAreListed) {
  json knobs = features()["org.runvm"]["vmAnnotations"];
  ASSERT_TRUE(knobs.is_object());
  for (auto name : {kAnnotationMemoryMib, kAnnotationVcpus, kAnnotationKernel, kAnnotationInitrd,
                    kAnnotationRootfsCache, kAnnotationUncompressedKernel}) {
    ASSERT_TRUE(knobs.contains(std::string(name))) << name;
    EXPECT_FALSE(knobs[std::string(name)].get<std::string>().empty());
  }
  EXPECT_EQ(knobs.size(), vm_knobs().size());
  for (const auto& k : vm_knobs()) {
    EXPECT_EQ(k.name.rfind(kVmAnnotationPrefix, 0), 0u) << k.name;
  }
}

TEST(Features, ExtraAnnotationsFromTheRuntime) {
  json f = features({.annotations = {{"io.github.seccomp.libseccomp.version", "2.5.4"}}});
  EXPECT_EQ(f["annotations"]["io.github.seccomp.libseccomp.version"], "2.5.4");
}

TEST(Features, KnobValues) {
  const VmKnob* mem = find_vm_knob(kAnnotationMemoryMib);
  ASSERT_NE(mem, nullptr);
  EXPECT_FALSE(check_vm_knob(*mem, "512").has_value());
  EXPECT_TRUE(check_vm_knob(*mem, "0").has_value());
  EXPECT_TRUE(check_vm_knob(*mem, "-1").has_value());
  EXPECT_TRUE(check_vm_knob(*mem, "512M").has_value());
  EXPECT_TRUE(check_vm_knob(*mem, "").has_value());
  const VmKnob* cpus = find_vm_knob(kAnnotationVcpus);
  ASSERT_NE(cpus, nullptr);
  EXPECT_EQ(check_vm_knob(*cpus, "65").value_or(""), "must be an integer in [1, 64], got \"65\"");
  const VmKnob* kernel = find_vm_knob(kAnnotationKernel);
  ASSERT_NE(kernel, nullptr);
  EXPECT_EQ(check_vm_knob(*kernel, "vmlinuz").value_or(""), "must be an absolute path");
  const VmKnob* cache = find_vm_knob(kAnnotationRootfsCache);
  ASSERT_NE(cache, nullptr);
  EXPECT_FALSE(check_vm_knob(*cache, "auto").has_value());
  EXPECT_EQ(check_vm_knob(*cache, "lots").value_or(""),
            "must be one of none,auto,always, got \"lots\"");
  // Knobs the runtime never read are gone: a bundle naming them is told so.
  EXPECT_EQ(find_vm_knob("io.runvm.vm.kernel_params"), nullptr);
  EXPECT_EQ(find_vm_knob("io.runvm.vm.shared_fs"), nullptr);
  EXPECT_EQ(find_vm_knob("io.runvm.vm.nope"), nullptr);
}

}  // namespace
}  // namespace runvm::oci
