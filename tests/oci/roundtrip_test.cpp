// A config.json that sets every field of the model survives parse -> serialise unchanged.
#include <gtest/gtest.h>

#include "oci/parse.h"
#include "oci/validate.h"

namespace runvm::oci {
namespace {

using nlohmann::json;

constexpr const char* kEveryField = R"JSON({
  "ociVersion": "1.2.0",
  "process": {
    "terminal": true,
    "consoleSize": {"height": 25, "width": 80},
    "user": {"uid": 1000, "gid": 1000, "umask": 18, "additionalGids": [5, 6]},
    "args": ["/bin/app", "--flag"],
    "commandLine": "app.exe --flag",
    "env": ["PATH=/usr/bin:/bin", "TERM=xterm", "EMPTY="],
    "cwd": "/work",
    "capabilities": {
      "bounding": ["CAP_CHOWN", "CAP_KILL"],
      "effective": ["CAP_KILL"],
      "inheritable": [],
      "permitted": ["CAP_CHOWN", "CAP_KILL"],
      "ambient": ["CAP_KILL"]
    },
    "rlimits": [
      {"type": "RLIMIT_NOFILE", "hard": 4096, "soft": 1024},
      {"type": "RLIMIT_CORE", "hard": 18446744073709551615, "soft": 0}
    ],
    "noNewPrivileges": true,
    "apparmorProfile": "runvm-default",
    "oomScoreAdj": -500,
    "scheduler": {"policy": "SCHED_DEADLINE", "nice": -5, "priority": 0,
                  "flags": ["SCHED_FLAG_RESET_ON_FORK"], "runtime": 1000000,
                  "deadline": 2000000, "period": 3000000},
    "selinuxLabel": "system_u:system_r:svirt_lxc_net_t:s0:c124,c675",
    "ioPriority": {"class": "IOPRIO_CLASS_BE", "priority": 4},
    "execCPUAffinity": {"initial": "0", "final": "0-3,7"}
  },
  "root": {"path": "rootfs", "readonly": false},
  "hostname": "box",
  "domainname": "example.org",
  "mounts": [
    {"destination": "/proc", "type": "proc", "source": "proc"},
    {"destination": "/data", "type": "bind", "source": "/srv/data", "options": ["rbind", "ro"],
     "uidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}],
     "gidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}]},
    {"destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": []}
  ],
  "hooks": {
    "prestart": [{"path": "/usr/bin/fix-mounts", "args": ["fix-mounts", "a"], "env": ["K=V"]}],
    "createRuntime": [{"path": "/usr/bin/net-setup", "timeout": 10}],
    "createContainer": [{"path": "/usr/bin/cc"}],
    "startContainer": [{"path": "/usr/bin/sc"}],
    "poststart": [{"path": "/usr/bin/notify", "args": ["notify"]}],
    "poststop": [{"path": "/usr/sbin/cleanup.sh", "args": ["cleanup.sh", "-f"], "timeout": 3}]
  },
  "annotations": {"com.example.key1": "value1", "io.runvm.vm.memory_mib": "512",
                  "io.runvm.vm.vcpus": "2", "io.runvm.vm.kernel": "/boot/vmlinuz",
                  "io.runvm.vm.initrd": "/boot/initrd.img", "io.runvm.vm.rootfs_cache": "auto",
                  "io.runvm.vm.uncompressed_kernel": "false"},
  "linux": {
    "uidMappings": [{"containerID": 0, "hostID": 1000, "size": 32000}],
    "gidMappings": [{"containerID": 0, "hostID": 1000, "size": 32000}],
    "sysctl": {"net.ipv4.ip_forward": "1", "net.core.somaxconn": "256"},
    "resources": {
      "devices": [{"allow": false, "access": "rwm"},
                  {"allow": true, "type": "c", "major": 10, "minor": 229, "access": "rw"},
                  {"allow": true, "type": "b", "major": 8, "minor": -1, "access": "r"}],
      "memory": {"limit": 536870912, "reservation": 536870912, "swap": 536870912,
                 "kernel": -1, "kernelTCP": -1, "swappiness": 0, "disableOOMKiller": false,
                 "useHierarchy": true, "checkBeforeUpdate": true},
      "cpu": {"shares": 1024, "quota": 1000000, "burst": 1000, "period": 500000,
              "realtimeRuntime": 950000, "realtimePeriod": 1000000, "cpus": "2-3", "mems": "0-7",
              "idle": 0},
      "pids": {"limit": 32771},
      "blockIO": {"weight": 10, "leafWeight": 10,
                  "weightDevice": [{"major": 8, "minor": 0, "weight": 500, "leafWeight": 300},
                                   {"major": 8, "minor": 16, "weight": 500}],
                  "throttleReadBpsDevice": [{"major": 8, "minor": 0, "rate": 600}],
                  "throttleWriteBpsDevice": [{"major": 8, "minor": 0, "rate": 700}],
                  "throttleReadIOPSDevice": [{"major": 8, "minor": 16, "rate": 300}],
                  "throttleWriteIOPSDevice": [{"major": 8, "minor": 16, "rate": 400}]},
      "hugepageLimits": [{"pageSize": "2MB", "limit": 209715200},
                         {"pageSize": "64KB", "limit": 1000000}],
      "network": {"classID": 1048577, "priorities": [{"name": "eth0", "priority": 500},
                                                     {"name": "eth1", "priority": 1000}]},
      "rdma": {"mlx5_1": {"hcaHandles": 3, "hcaObjects": 10000}, "mlx4_0": {"hcaObjects": 1000}},
      "unified": {"io.max": "259:0 rbps=2097152", "memory.high": "1073741824"}
    },
    "cgroupsPath": "/myRuntime/myContainer",
    "namespaces": [{"type": "pid"}, {"type": "network", "path": "/var/run/netns/neta"},
                   {"type": "mount"}, {"type": "ipc"}, {"type": "uts"}, {"type": "user"},
                   {"type": "cgroup"}, {"type": "time"}],
    "devices": [{"type": "c", "path": "/dev/fuse", "major": 10, "minor": 229, "fileMode": 438,
                 "uid": 0, "gid": 0},
                {"type": "b", "path": "/dev/sda", "major": 8, "minor": 0},
                {"type": "p", "path": "/dev/fifo"}],
    "netDevices": {"eth0": {"name": "ns1"}, "eth1": {}},
    "seccomp": {
      "defaultAction": "SCMP_ACT_ERRNO",
      "defaultErrnoRet": 1,
      "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
      "flags": ["SECCOMP_FILTER_FLAG_LOG"],
      "listenerPath": "/run/seccomp-agent.socket",
      "listenerMetadata": "metadata",
      "syscalls": [
        {"names": ["getcwd", "chmod"], "action": "SCMP_ACT_ALLOW"},
        {"names": ["personality"], "action": "SCMP_ACT_ALLOW",
         "args": [{"index": 0, "value": 8, "op": "SCMP_CMP_EQ"},
                  {"index": 1, "value": 255, "valueTwo": 8, "op": "SCMP_CMP_MASKED_EQ"}]},
        {"names": ["mount"], "action": "SCMP_ACT_NOTIFY"},
        {"names": ["ptrace"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38}
      ]
    },
    "rootfsPropagation": "rslave",
    "maskedPaths": ["/proc/kcore", "/sys/firmware"],
    "readonlyPaths": ["/proc/sys"],
    "mountLabel": "system_u:object_r:svirt_sandbox_file_t:s0:c715,c811",
    "intelRdt": {"closID": "guaranteed_group", "l3CacheSchema": "L3:0=7f0;1=1f",
                 "memBwSchema": "MB:0=20;1=70", "enableCMT": true, "enableMBM": false},
    "personality": {"domain": "LINUX32", "flags": []},
    "timeOffsets": {"boottime": {"secs": 100, "nanosecs": 5}, "monotonic": {"secs": -3,
                                                                            "nanosecs": 0}}
  },
  "vm": {
    "hypervisor": {"path": "/usr/bin/runvm-vmm", "parameters": ["--debug"]},
    "kernel": {"path": "/boot/vmlinuz", "parameters": ["console=hvc0"], "initrd": "/boot/init.img"},
    "image": {"path": "/var/lib/images/disk.qcow2", "format": "qcow2"}
  }
})JSON";

TEST(RoundTrip, EveryFieldSurvives) {
  json original = json::parse(kEveryField);
  auto spec = parse_config(kEveryField);
  ASSERT_TRUE(spec.ok()) << spec.error().message;
  json back = to_json(*spec);
  EXPECT_EQ(back, original) << "diff: " << json::diff(original, back).dump(1);
}

TEST(RoundTrip, EveryFieldIsValid) {
  auto spec = parse_config(kEveryField);
  ASSERT_TRUE(spec.ok()) << spec.error().message;
  EXPECT_EQ(format_violations(validate(*spec)), "");
}

TEST(RoundTrip, TypedValues) {
  auto spec = parse_config(kEveryField);
  ASSERT_TRUE(spec.ok()) << spec.error().message;
  const Spec& s = *spec;
  EXPECT_EQ(s.process->ioPriority->class_, "IOPRIO_CLASS_BE");
  EXPECT_EQ(s.process->rlimits->at(1).hard, UINT64_MAX);
  EXPECT_EQ(s.linux->resources->devices->at(2).minor, -1);
  EXPECT_EQ(s.linux->seccomp->syscalls->at(1).args->at(1).valueTwo, 8u);
  EXPECT_EQ(s.linux->timeOffsets->at("monotonic").secs, -3);
  EXPECT_EQ(s.linux->namespaces->at(1).path, "/var/run/netns/neta");
  EXPECT_EQ(s.vm->kernel.initrd, "/boot/init.img");
  EXPECT_FALSE(s.linux->netDevices->at("eth1").name.has_value());
}

TEST(RoundTrip, TypedModelSurvivesTextAndKeepsSpecOrder) {
  auto spec = parse_config(kEveryField);
  ASSERT_TRUE(spec.ok()) << spec.error().message;
  std::string text = to_config_text(*spec);
  EXPECT_EQ(
      text.rfind("{\n\t\"ociVersion\": \"1.2.0\",\n\t\"process\": {\n\t\t\"terminal\": true", 0),
      0u)
      << text.substr(0, 200);
  auto again = parse_config(text);
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_TRUE(*again == *spec);
  auto compact = parse_config(to_config_text(*spec, 0));
  ASSERT_TRUE(compact.ok());
  EXPECT_TRUE(*compact == *spec);
}

}  // namespace
}  // namespace runvm::oci
