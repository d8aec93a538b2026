// resolve_vm_settings() and size_vm_from_resources(): where a container's microVM
// settings come from, what a bundle may and may not choose.
#include "runtime/vm/vm_settings.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include <gtest/gtest.h>

#include "tests/runtime/test_support.h"

#include "oci/features.h"
#include "runtime/vm/kernel_release.h"
#include "runtime/vm/vm_sizing.h"

namespace runvm::runtime::vm {
namespace {

namespace fs = std::filesystem;

class VmSettingsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(dir_ + "/images");
    fs::create_directories(dir_ + "/elsewhere");
    for (const char* f : {"/images/vmlinuz", "/images/initrd.img", "/images/runvm-vmm",
                          "/images/other-kernel", "/elsewhere/secret"})
      std::ofstream(dir_ + f) << "x";
    fs::create_symlink(dir_ + "/elsewhere/secret", dir_ + "/images/link-out");
  }
  std::string config(const std::string& extra = "") {
    const std::string path = dir_ + "/config.json";
    std::ofstream(path) << R"({"vmm":")" << dir_ << R"(/images/runvm-vmm","kernel":")" << dir_
                        << R"(/images/vmlinuz","initrd":")" << dir_ << R"(/images/initrd.img",)"
                        << R"("memory_mib":256,"vcpus":2)" << extra << "}";
    return path;
  }
  testing::TempDir tmp_;
  const std::string dir_ = tmp_.path();
};

TEST_F(VmSettingsTest, SystemConfigThenAnnotations) {
  auto s = resolve_vm_settings({}, config());
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->kernel, dir_ + "/images/vmlinuz");
  EXPECT_EQ(s->memory_mib, 256u);
  EXPECT_EQ(s->vcpus, 2u);
  auto a = resolve_vm_settings(
      {{"io.runvm.vm.memory_mib", "1024"}, {"io.runvm.vm.vcpus", "3"}, {"unrelated", "x"}},
      config(R"(,"max_vcpus":4,"max_memory_mib":4096)"));
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_EQ(a->memory_mib, 1024u);
  EXPECT_EQ(a->vcpus, 3u);
}

TEST_F(VmSettingsTest, BadValuesNameTheirSource) {
  auto m = resolve_vm_settings({{"io.runvm.vm.memory_mib", "lots"}}, config());
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().message,
            "annotation io.runvm.vm.memory_mib: memory_mib: must be 64..1048576 (MiB)");
  std::ofstream(dir_ + "/broken.json") << "{not json";
  auto b = resolve_vm_settings({}, dir_ + "/broken.json");
  ASSERT_FALSE(b);
  EXPECT_EQ(b.error().message, dir_ + "/broken.json: not a JSON object");
}

TEST_F(VmSettingsTest, BundleCannotChooseTheVmm) {
  auto r = resolve_vm_settings({{"io.runvm.vm.vmm", dir_ + "/images/runvm-vmm"}}, config());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().err, EPERM);
}

TEST_F(VmSettingsTest, AnnotatedKernelMustBeInAnAllowedDirectory) {
  // Not allowed by default: any host file would end up in guest memory.
  auto r = resolve_vm_settings({{"io.runvm.vm.initrd", dir_ + "/elsewhere/secret"}}, config());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().err, EPERM);
  EXPECT_NE(r.error().message.find("is not a file in the directories annotations may name"),
            std::string::npos)
      << r.error().message;
  const std::string allow = R"(,"annotation_dirs":[")" + dir_ + R"(/images"])";
  auto ok =
      resolve_vm_settings({{"io.runvm.vm.kernel", dir_ + "/images/other-kernel"}}, config(allow));
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(ok->kernel, dir_ + "/images/other-kernel");
  // Inside by name only: a symlink or .. walk out of the directory is refused.
  for (const std::string& sneaky :
       {dir_ + "/images/link-out", dir_ + "/images/../elsewhere/secret"}) {
    auto no = resolve_vm_settings({{"io.runvm.vm.kernel", sneaky}}, config(allow));
    ASSERT_FALSE(no) << sneaky;
    EXPECT_EQ(no.error().err, EPERM) << sneaky;
  }
}

TEST_F(VmSettingsTest, AnnotationsStayWithinTheHostMaxima) {
  const std::string max = R"(,"max_memory_mib":1024,"max_vcpus":2)";
  auto ok = resolve_vm_settings({{"io.runvm.vm.memory_mib", "1024"}, {"io.runvm.vm.vcpus", "2"}},
                                config(max));
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(ok->memory_mib, 1024u);
  auto m = resolve_vm_settings({{"io.runvm.vm.memory_mib", "2048"}}, config(max));
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().err, EPERM);
  EXPECT_NE(m.error().message.find("2048 MiB is more than this host allows (1024 MiB"),
            std::string::npos)
      << m.error().message;
  auto c = resolve_vm_settings({{"io.runvm.vm.vcpus", "3"}}, config(max));
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().err, EPERM);
  // The VMM's seccomp filter is the host's choice too (config file only): on unless
  // the config turns it off.
  auto sc = resolve_vm_settings({}, config(max + R"(,"vmm_seccomp":false)"));
  ASSERT_TRUE(sc) << sc.error().message;
  EXPECT_FALSE(sc->vmm_seccomp);
  EXPECT_TRUE(resolve_vm_settings({}, config())->vmm_seccomp);
  auto off = resolve_vm_settings({{"io.runvm.vm.vmm_seccomp", "false"}}, config(max));
  ASSERT_FALSE(off);
  EXPECT_EQ(off.error().err, EPERM);
  // So is the VMM's user: numeric "UID[:GID]" in the config file, never from a bundle.
  auto user = resolve_vm_settings({}, config(max + R"(,"vmm_user":"65534:65533")"));
  ASSERT_TRUE(user) << user.error().message;
  EXPECT_EQ(user->vmm_user, "65534:65533");
  EXPECT_EQ(resolve_vm_settings({}, config())->vmm_user, "");
  for (const char* bad : {"nobody", "1:", ":1", "-1", "4294967295", "1:2:3"}) {
    auto b = resolve_vm_settings({}, config(max + R"(,"vmm_user":")" + bad + "\""));
    ASSERT_FALSE(b) << bad;
    EXPECT_NE(b.error().message.find("vmm_user: must be"), std::string::npos) << b.error().message;
  }
  auto annotated = resolve_vm_settings({{"io.runvm.vm.vmm_user", "0"}}, config(max));
  ASSERT_FALSE(annotated);
  EXPECT_EQ(annotated.error().err, EPERM);
  // virtio-fs caching: the config's, then the bundle's (it only changes what its own guest
  // keeps); only the three modes, named in the error.
  auto cache = resolve_vm_settings(
      {{"io.runvm.vm.volume_cache", "none"}, {"io.runvm.vm.rootfs_writeback", "false"}},
      config(max + R"(,"rootfs_cache":"auto","volume_cache":"always")"));
  ASSERT_TRUE(cache) << cache.error().message;
  EXPECT_EQ(cache->rootfs_cache, "auto");
  EXPECT_FALSE(cache->rootfs_writeback);
  EXPECT_EQ(cache->volume_cache, "none");
  auto dflt = resolve_vm_settings({}, config());
  EXPECT_EQ(dflt->rootfs_cache, kDefaultRootfsCache);
  EXPECT_EQ(dflt->rootfs_writeback, kDefaultRootfsWriteback);
  EXPECT_EQ(dflt->volume_cache, "auto");
  auto bad_cache = resolve_vm_settings({{"io.runvm.vm.rootfs_cache", "sometimes"}}, config(max));
  ASSERT_FALSE(bad_cache);
  EXPECT_NE(bad_cache.error().message.find(
                "annotation io.runvm.vm.rootfs_cache: rootfs_cache: must be \"none\""),
            std::string::npos)
      << bad_cache.error().message;
  // The maxima are the host's: a bundle cannot raise them.
  auto raise = resolve_vm_settings(
      {{"io.runvm.vm.max_memory_mib", "4096"}, {"io.runvm.vm.memory_mib", "2048"}}, config(max));
  ASSERT_FALSE(raise);
  EXPECT_EQ(raise.error().err, EPERM);
  // Without maxima in the config, the host's memory and CPUs are the limit.
  auto host = resolve_vm_settings({{"io.runvm.vm.vcpus", "64"}}, config());
  if (sysconf(_SC_NPROCESSORS_ONLN) < 64) {
    ASSERT_FALSE(host);
    EXPECT_EQ(host.error().err, EPERM);
  }
}

TEST_F(VmSettingsTest, KernelDirectoryGivesKernelsNotInitramfsImages) {
  // As /boot: the configured kernel's directory also holds host initramfs images,
  // which may carry secrets.
  fs::create_directories(dir_ + "/boot");
  for (const char* f : {"/boot/vmlinuz-1", "/boot/vmlinuz-2", "/boot/initrd.img-1"})
    std::ofstream(dir_ + f) << "x";
  const std::string path = dir_ + "/boot-config.json";
  std::ofstream(path) << R"({"vmm":")" << dir_ << R"(/images/runvm-vmm","kernel":")" << dir_
                      << R"(/boot/vmlinuz-1","initrd":")" << dir_ << R"(/images/initrd.img"})";
  auto k = resolve_vm_settings({{"io.runvm.vm.kernel", dir_ + "/boot/vmlinuz-2"}}, path);
  ASSERT_TRUE(k) << k.error().message;
  EXPECT_EQ(k->kernel, dir_ + "/boot/vmlinuz-2");
  for (const char* key : {"io.runvm.vm.initrd", "io.runvm.vm.kernel"}) {
    auto r = resolve_vm_settings({{key, dir_ + "/boot/initrd.img-1"}}, path);
    ASSERT_FALSE(r) << key;
    EXPECT_EQ(r.error().err, EPERM) << key;
  }
}

// A file with just the bzImage setup header fields kernel_release() reads.
void write_bzimage(const std::string& path, const std::string& version) {
  std::string img(0x400, '\0');
  img.replace(0x202, 4, "HdrS");
  img[0x20E] = 0x00;  // kernel_version = 0x200: the string is at 0x400
  img[0x20F] = 0x02;
  std::ofstream(path, std::ios::binary) << img << version << '\0';
}

TEST(KernelRelease, ReadFromTheSetupHeader) {
  testing::TempDir tmp;
  const std::string k = tmp.path() + "/vmlinuz";
  write_bzimage(k, "6.1.0-99-cloud-amd64 (debian-kernel@lists.debian.org) #1 SMP");
  auto r = kernel_release(k);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(*r, "6.1.0-99-cloud-amd64");
  std::ofstream(tmp.path() + "/elf") << "\x7f"
                                        "ELF not a bzImage";
  EXPECT_EQ(kernel_release(tmp.path() + "/elf").error().err, ENOEXEC);
  EXPECT_EQ(kernel_release(tmp.path() + "/missing").error().err, ENOENT);
  EXPECT_EQ(image_release("runvm-initrd-6.1.0-99-cloud-amd64.img"), "6.1.0-99-cloud-amd64");
  EXPECT_EQ(image_release("runvm-initrd.img"), "");
  EXPECT_EQ(image_release("initrd.img-6.1.0"), "");
}

TEST_F(VmSettingsTest, GuestImageFollowsTheKernelRelease) {
  fs::create_directories(dir_ + "/boot");
  fs::create_directories(dir_ + "/var");
  write_bzimage(dir_ + "/boot/vmlinuz-6.1.0-9-cloud-amd64", "6.1.0-9-cloud-amd64 #1");
  write_bzimage(dir_ + "/boot/vmlinuz-6.1.0-10-cloud-amd64", "6.1.0-10-cloud-amd64 #1");
  std::ofstream(dir_ + "/var/runvm-initrd-6.1.0-9-cloud-amd64.img") << "old";
  const std::string path = dir_ + "/glob-config.json";
  auto write = [&](const std::string& extra) {
    std::ofstream(path) << R"({"vmm":")" << dir_ << R"(/images/runvm-vmm","kernel":")" << dir_
                        << R"(/boot/vmlinuz-*-cloud-amd64","image_dir":")" << dir_ << R"(/var")"
                        << extra << "}";
  };
  // The glob picks 6.1.0-10 (version order, not string order), which has no image yet.
  write("");
  auto missing = resolve_vm_settings({}, path);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().err, ENOENT);
  EXPECT_NE(missing.error().message.find("runvm-update-image 6.1.0-10-cloud-amd64"),
            std::string::npos)
      << missing.error().message;
  std::ofstream(dir_ + "/var/runvm-initrd-6.1.0-10-cloud-amd64.img") << "new";
  auto found = resolve_vm_settings({}, path);
  ASSERT_TRUE(found) << found.error().message;
  EXPECT_EQ(found->kernel, dir_ + "/boot/vmlinuz-6.1.0-10-cloud-amd64");
  EXPECT_EQ(found->initrd, dir_ + "/var/runvm-initrd-6.1.0-10-cloud-amd64.img");
  // An image named for another release is refused, not booted without its modules.
  write(R"(,"initrd":")" + dir_ + R"(/var/runvm-initrd-6.1.0-9-cloud-amd64.img")");
  auto mismatch = resolve_vm_settings({}, path);
  ASSERT_FALSE(mismatch);
  EXPECT_NE(mismatch.error().message.find("was built for kernel 6.1.0-9-cloud-amd64"),
            std::string::npos)
      << mismatch.error().message;
  // The bundle may pick the older kernel and then gets that kernel's image.
  write("");
  auto older = resolve_vm_settings(
      {{"io.runvm.vm.kernel", dir_ + "/boot/vmlinuz-6.1.0-9-cloud-amd64"}}, path);
  ASSERT_TRUE(older) << older.error().message;
  EXPECT_EQ(older->initrd, dir_ + "/var/runvm-initrd-6.1.0-9-cloud-amd64.img");
  // image_dir is the host's choice.
  auto a = resolve_vm_settings({{"io.runvm.vm.image_dir", dir_}}, path);
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().err, EPERM);
  // A glob that matches nothing names itself.
  std::ofstream(path) << R"({"kernel":")" << dir_ << R"(/none-*"})";
  auto none = resolve_vm_settings({}, path);
  ASSERT_FALSE(none);
  EXPECT_NE(none.error().message.find("no file matches"), std::string::npos);
}

// runvm-vmm boots the kernel's extracted ELF copy beside the guest image only while the
// copy's stamp names this very bzImage (size and whole version string).
TEST_F(VmSettingsTest, BootsTheUncompressedCopyOnlyWhileItMatches) {
  fs::create_directories(dir_ + "/boot");
  fs::create_directories(dir_ + "/var");
  const std::string version =
      "6.1.0-10-cloud-amd64 (debian-kernel@lists.debian.org) #1 SMP "
      "PREEMPT_DYNAMIC Debian 6.1.190-1 (2026-10-01)";
  const std::string bz = dir_ + "/boot/vmlinuz-6.1.0-10-cloud-amd64";
  write_bzimage(bz, version);
  std::ofstream(dir_ + "/var/runvm-initrd-6.1.0-10-cloud-amd64.img") << "img";
  const std::string copy = dir_ + "/var/runvm-vmlinux-6.1.0-10-cloud-amd64";
  std::ofstream(copy) << "\x7f"
                         "ELF";
  const std::string path = dir_ + "/uk-config.json";
  std::ofstream(path) << R"({"vmm":")" << dir_ << R"(/images/runvm-vmm","kernel":")" << bz
                      << R"(","image_dir":")" << dir_ << R"(/var"})";
  auto stamp = [&](uint64_t size, const std::string& v) {
    std::ofstream(copy + ".source") << size << "\n" << v << "\n";
  };
  const uint64_t size = fs::file_size(bz);
  // No stamp: the bzImage.
  auto none = resolve_vm_settings({}, path);
  ASSERT_TRUE(none) << none.error().message;
  EXPECT_EQ(none->boot_kernel, bz);
  stamp(size, version);
  auto fresh = resolve_vm_settings({}, path);
  ASSERT_TRUE(fresh) << fresh.error().message;
  EXPECT_EQ(fresh->kernel, bz);  // still what the release and the image follow
  EXPECT_EQ(fresh->boot_kernel, copy);
  // The plan keeps it across the supervisor's exec.
  auto back = VmSettings::from_json(fresh->to_json());
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->boot_kernel, copy);
  // Turned off by the host or the bundle.
  auto off = resolve_vm_settings({{"io.runvm.vm.uncompressed_kernel", "false"}}, path);
  ASSERT_TRUE(off) << off.error().message;
  EXPECT_EQ(off->boot_kernel, bz);
  // The same release rebuilt (another version string or size): the copy is stale.
  stamp(size, "6.1.0-10-cloud-amd64 (debian-kernel@lists.debian.org) #1 SMP Debian 6.1.191-1");
  EXPECT_EQ(resolve_vm_settings({}, path)->boot_kernel, bz);
  stamp(size + 1, version);
  EXPECT_EQ(resolve_vm_settings({}, path)->boot_kernel, bz);
  // A bundle cannot name the file runvm-vmm boots.
  stamp(size, version);
  auto named = resolve_vm_settings({{"io.runvm.vm.boot_kernel", "/etc/shadow"}}, path);
  ASSERT_TRUE(named) << named.error().message;
  EXPECT_EQ(named->boot_kernel, copy);
}

// `runvm features` and validate() (oci/features.h) list exactly the annotations this file
// honours: every knob changes a setting, and every setting a bundle may choose is a knob.
TEST_F(VmSettingsTest, EveryAdvertisedAnnotationIsHonoured) {
  const std::string path = config(R"(,"max_memory_mib":4096,"max_vcpus":4)");
  auto base = resolve_vm_settings({}, path);
  ASSERT_TRUE(base) << base.error().message;
  const std::map<std::string, std::string> samples = {{"memory_mib", "1024"},
                                                      {"vcpus", "3"},
                                                      {"kernel", dir_ + "/images/other-kernel"},
                                                      {"initrd", dir_ + "/images/other-kernel"},
                                                      {"boot_timeout_s", "60"},
                                                      {"rootfs_cache", "none"},
                                                      {"rootfs_writeback", "true"},
                                                      {"volume_cache", "always"},
                                                      {"uncompressed_kernel", "false"}};
  for (const auto& knob : oci::vm_knobs()) {
    const std::string key(knob.name.substr(oci::kVmAnnotationPrefix.size()));
    ASSERT_TRUE(samples.count(key)) << "no sample value for " << knob.name;
    EXPECT_FALSE(oci::check_vm_knob(knob, samples.at(key)).has_value()) << knob.name;
    auto s = resolve_vm_settings({{std::string(knob.name), samples.at(key)}}, path);
    ASSERT_TRUE(s) << knob.name << ": " << s.error().message;
    EXPECT_NE(s->to_json()[key], base->to_json()[key]) << knob.name << " changed nothing";
  }
  const std::set<std::string> host_only = {
      "vmm",      "max_memory_mib", "max_vcpus", "vmm_seccomp", "vmm_user", "image_dir",
      "boot_kernel", "snapshots", "snapshot_dir"};
  const nlohmann::json all = base->to_json();
  for (const auto& [key, value] : all.items())
    EXPECT_TRUE(host_only.count(key) || oci::find_vm_knob("io.runvm.vm." + key))
        << key << " is a setting but not an annotation runvm advertises";
}

TEST_F(VmSettingsTest, SizingStaysWithinTheHostMaxima) {
  VmSettings s;
  s.memory_mib = 512;
  s.vcpus = 1;
  s.max_memory_mib = 1024;
  s.max_vcpus = 2;
  oci::Spec spec;
  spec.linux = oci::Linux{};
  spec.linux->resources = oci::Resources{};
  spec.linux->resources->memory = oci::Memory{};
  spec.linux->resources->memory->limit = int64_t{4} << 30;
  spec.linux->resources->cpu = oci::CPU{};
  spec.linux->resources->cpu->quota = 800000;
  spec.linux->resources->cpu->period = 100000;
  size_vm_from_resources(s, spec, {});
  EXPECT_EQ(s.memory_mib, 1024u);
  EXPECT_EQ(s.vcpus, 2u);
}

TEST_F(VmSettingsTest, SizingAddsTheContainersLimits) {
  VmSettings s;
  s.memory_mib = 512;
  s.vcpus = 1;
  oci::Spec spec;
  spec.linux = oci::Linux{};
  spec.linux->resources = oci::Resources{};
  spec.linux->resources->memory = oci::Memory{};
  spec.linux->resources->memory->limit = 300 * 1024 * 1024 + 1;  // rounds up to 301 MiB
  spec.linux->resources->cpu = oci::CPU{};
  spec.linux->resources->cpu->quota = 150000;
  spec.linux->resources->cpu->period = 100000;  // 1.5 CPUs -> 2 more vCPUs
  VmSettings sized = s;
  size_vm_from_resources(sized, spec, {});
  EXPECT_EQ(sized.memory_mib, 813u);
  EXPECT_EQ(sized.vcpus, 3u);
  // Explicit annotations win; no resources, no change.
  VmSettings pinned = s;
  size_vm_from_resources(pinned, spec,
                         {{"io.runvm.vm.memory_mib", "512"}, {"io.runvm.vm.vcpus", "1"}});
  EXPECT_EQ(pinned.memory_mib, 512u);
  EXPECT_EQ(pinned.vcpus, 1u);
  VmSettings plain = s;
  size_vm_from_resources(plain, oci::Spec{}, {});
  EXPECT_EQ(plain.memory_mib, 512u);
  EXPECT_EQ(plain.vcpus, 1u);
  // Unlimited (-1) memory and quota add nothing.
  spec.linux->resources->memory->limit = -1;
  spec.linux->resources->cpu->quota = -1;
  VmSettings unlimited = s;
  size_vm_from_resources(unlimited, spec, {});
  EXPECT_EQ(unlimited.memory_mib, 512u);
  EXPECT_EQ(unlimited.vcpus, 1u);
}

}  // namespace
}  // namespace runvm::runtime::vm
