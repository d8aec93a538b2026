// Typed model of an OCI bundle's config.json (runtime-spec v1.2, Linux, plus the
// generic "vm" object of config-vm.md).
//
// Member names are the JSON names, so `spec.linux->resources->memory->limit` is
// `linux.resources.memory.limit` in config.json. An optional field that was absent
// in the JSON is std::nullopt and is not written back by to_json(); a list that
// was absent is std::nullopt too, so `"options": []` and a missing "options"
// round-trip differently, as in the Go types (`omitempty`).
//
// These are plain values: parse with oci/parse.h, check with oci/validate.h.
// Parsing never judges content (unknown capability names etc.); validate() does.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

// GNU dialects predefine `linux` as 1; the member Spec::linux needs the name.
#ifdef linux
#undef linux
#endif

namespace runvm::oci {

// Version of the runtime-spec this model implements.
inline constexpr const char* kSpecVersion = "1.2.0";

using StringList = std::vector<std::string>;
using StringMap = std::map<std::string, std::string>;

struct Root {
  std::string path;  // required (validated), relative to the bundle or absolute
  std::optional<bool> readonly;
  bool operator==(const Root&) const = default;
};

struct IdMapping {
  uint32_t containerID = 0;
  uint32_t hostID = 0;
  uint32_t size = 0;
  bool operator==(const IdMapping&) const = default;
};

struct Mount {
  std::string destination;  // required, absolute
  std::optional<std::string> source;
  std::optional<StringList> options;
  std::optional<std::string> type;
  std::optional<std::vector<IdMapping>> uidMappings;  // idmapped mounts (v1.1+)
  std::optional<std::vector<IdMapping>> gidMappings;
  bool operator==(const Mount&) const = default;
};

struct ConsoleSize {
  uint32_t height = 0;
  uint32_t width = 0;
  bool operator==(const ConsoleSize&) const = default;
};

struct User {
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::optional<uint32_t> umask;
  std::optional<std::vector<uint32_t>> additionalGids;
  bool operator==(const User&) const = default;
};

struct Capabilities {
  std::optional<StringList> bounding;
  std::optional<StringList> effective;
  std::optional<StringList> inheritable;
  std::optional<StringList> permitted;
  std::optional<StringList> ambient;
  bool operator==(const Capabilities&) const = default;
};

struct Rlimit {
  std::string type;  // RLIMIT_*
  uint64_t soft = 0;
  uint64_t hard = 0;
  bool operator==(const Rlimit&) const = default;
};

struct IoPriority {
  std::string class_;  // JSON "class": IOPRIO_CLASS_RT|BE|IDLE
  int32_t priority = 0;
  bool operator==(const IoPriority&) const = default;
};

struct Scheduler {     // v1.2
  std::string policy;  // SCHED_*
  std::optional<int32_t> nice;
  std::optional<int32_t> priority;
  std::optional<StringList> flags;  // SCHED_FLAG_*
  std::optional<uint64_t> runtime;
  std::optional<uint64_t> deadline;
  std::optional<uint64_t> period;
  bool operator==(const Scheduler&) const = default;
};

struct CPUAffinity {  // v1.2 process.execCPUAffinity
  std::optional<std::string> initial;
  std::optional<std::string> final;
  bool operator==(const CPUAffinity&) const = default;
};

struct Process {
  std::optional<bool> terminal;
  std::optional<ConsoleSize> consoleSize;
  User user;
  std::optional<StringList> args;
  std::optional<std::string> commandLine;  // Windows only; kept, ignored on Linux
  std::optional<StringList> env;
  std::string cwd;  // required, absolute
  std::optional<Capabilities> capabilities;
  std::optional<std::vector<Rlimit>> rlimits;
  std::optional<bool> noNewPrivileges;
  std::optional<std::string> apparmorProfile;
  std::optional<std::string> selinuxLabel;
  std::optional<int32_t> oomScoreAdj;
  std::optional<IoPriority> ioPriority;
  std::optional<Scheduler> scheduler;
  std::optional<CPUAffinity> execCPUAffinity;
  bool operator==(const Process&) const = default;
};

struct Hook {
  std::string path;  // required, absolute
  std::optional<StringList> args;
  std::optional<StringList> env;
  std::optional<int32_t> timeout;  // seconds, > 0
  bool operator==(const Hook&) const = default;
};

struct Hooks {
  std::optional<std::vector<Hook>> prestart;  // deprecated, still run by runc
  std::optional<std::vector<Hook>> createRuntime;
  std::optional<std::vector<Hook>> createContainer;
  std::optional<std::vector<Hook>> startContainer;
  std::optional<std::vector<Hook>> poststart;
  std::optional<std::vector<Hook>> poststop;
  bool operator==(const Hooks&) const = default;
};

// ---- linux ----

struct Namespace {
  std::string type;  // pid|network|mount|ipc|uts|user|cgroup|time
  std::optional<std::string> path;
  bool operator==(const Namespace&) const = default;
};

struct TimeOffset {
  int64_t secs = 0;
  uint32_t nanosecs = 0;
  bool operator==(const TimeOffset&) const = default;
};

struct Device {      // linux.devices[]
  std::string type;  // c|b|u|p
  std::string path;
  std::optional<int64_t> major;
  std::optional<int64_t> minor;
  std::optional<uint32_t> fileMode;
  std::optional<uint32_t> uid;
  std::optional<uint32_t> gid;
  bool operator==(const Device&) const = default;
};

struct DeviceCgroup {  // linux.resources.devices[]
  bool allow = false;
  std::optional<std::string> type;  // a|c|b
  std::optional<int64_t> major;
  std::optional<int64_t> minor;
  std::optional<std::string> access;  // subset of "rwm"
  bool operator==(const DeviceCgroup&) const = default;
};

struct Memory {
  std::optional<int64_t> limit;
  std::optional<int64_t> reservation;
  std::optional<int64_t> swap;
  std::optional<int64_t> kernel;
  std::optional<int64_t> kernelTCP;
  std::optional<uint64_t> swappiness;
  std::optional<bool> disableOOMKiller;
  std::optional<bool> useHierarchy;
  std::optional<bool> checkBeforeUpdate;
  bool operator==(const Memory&) const = default;
};

struct CPU {
  std::optional<uint64_t> shares;
  std::optional<int64_t> quota;
  std::optional<uint64_t> burst;
  std::optional<uint64_t> period;
  std::optional<int64_t> realtimeRuntime;
  std::optional<uint64_t> realtimePeriod;
  std::optional<std::string> cpus;
  std::optional<std::string> mems;
  std::optional<int64_t> idle;
  bool operator==(const CPU&) const = default;
};

struct WeightDevice {
  int64_t major = 0;
  int64_t minor = 0;
  std::optional<uint16_t> weight;
  std::optional<uint16_t> leafWeight;
  bool operator==(const WeightDevice&) const = default;
};

struct ThrottleDevice {
  int64_t major = 0;
  int64_t minor = 0;
  uint64_t rate = 0;
  bool operator==(const ThrottleDevice&) const = default;
};

struct BlockIO {
  std::optional<uint16_t> weight;
  std::optional<uint16_t> leafWeight;
  std::optional<std::vector<WeightDevice>> weightDevice;
  std::optional<std::vector<ThrottleDevice>> throttleReadBpsDevice;
  std::optional<std::vector<ThrottleDevice>> throttleWriteBpsDevice;
  std::optional<std::vector<ThrottleDevice>> throttleReadIOPSDevice;
  std::optional<std::vector<ThrottleDevice>> throttleWriteIOPSDevice;
  bool operator==(const BlockIO&) const = default;
};

struct HugepageLimit {
  std::string pageSize;  // e.g. "2MB"
  uint64_t limit = 0;
  bool operator==(const HugepageLimit&) const = default;
};

struct InterfacePriority {
  std::string name;
  uint32_t priority = 0;
  bool operator==(const InterfacePriority&) const = default;
};

struct Network {
  std::optional<uint32_t> classID;
  std::optional<std::vector<InterfacePriority>> priorities;
  bool operator==(const Network&) const = default;
};

struct Pids {
  int64_t limit = 0;
  bool operator==(const Pids&) const = default;
};

struct Rdma {
  std::optional<uint32_t> hcaHandles;
  std::optional<uint32_t> hcaObjects;
  bool operator==(const Rdma&) const = default;
};

struct Resources {
  std::optional<std::vector<DeviceCgroup>> devices;
  std::optional<Memory> memory;
  std::optional<CPU> cpu;
  std::optional<Pids> pids;
  std::optional<BlockIO> blockIO;
  std::optional<std::vector<HugepageLimit>> hugepageLimits;
  std::optional<Network> network;
  std::optional<std::map<std::string, Rdma>> rdma;
  std::optional<StringMap> unified;  // cgroup v2 file name -> value
  bool operator==(const Resources&) const = default;
};

struct SeccompArg {
  uint32_t index = 0;
  uint64_t value = 0;
  std::optional<uint64_t> valueTwo;
  std::string op;  // SCMP_CMP_*
  bool operator==(const SeccompArg&) const = default;
};

struct SeccompSyscall {
  StringList names;
  std::string action;  // SCMP_ACT_*
  std::optional<uint32_t> errnoRet;
  std::optional<std::vector<SeccompArg>> args;
  bool operator==(const SeccompSyscall&) const = default;
};

struct Seccomp {
  std::string defaultAction;  // SCMP_ACT_*
  std::optional<uint32_t> defaultErrnoRet;
  std::optional<StringList> architectures;  // SCMP_ARCH_*
  std::optional<StringList> flags;          // SECCOMP_FILTER_FLAG_*
  std::optional<std::string> listenerPath;
  std::optional<std::string> listenerMetadata;
  std::optional<std::vector<SeccompSyscall>> syscalls;
  bool operator==(const Seccomp&) const = default;
};

struct Personality {
  std::string domain;  // LINUX|LINUX32
  std::optional<StringList> flags;
  bool operator==(const Personality&) const = default;
};

struct IntelRdt {
  std::optional<std::string> closID;
  std::optional<std::string> l3CacheSchema;
  std::optional<std::string> memBwSchema;
  std::optional<bool> enableCMT;
  std::optional<bool> enableMBM;
  bool operator==(const IntelRdt&) const = default;
};

struct NetDevice {  // v1.2 linux.netDevices{}
  std::optional<std::string> name;
  bool operator==(const NetDevice&) const = default;
};

struct Linux {
  std::optional<std::vector<Namespace>> namespaces;
  std::optional<std::vector<IdMapping>> uidMappings;
  std::optional<std::vector<IdMapping>> gidMappings;
  std::optional<std::map<std::string, TimeOffset>> timeOffsets;  // "boottime"/"monotonic"
  std::optional<std::vector<Device>> devices;
  std::optional<std::map<std::string, NetDevice>> netDevices;
  std::optional<std::string> cgroupsPath;
  std::optional<Resources> resources;
  std::optional<StringMap> sysctl;
  std::optional<Seccomp> seccomp;
  std::optional<std::string> rootfsPropagation;
  std::optional<StringList> maskedPaths;
  std::optional<StringList> readonlyPaths;
  std::optional<std::string> mountLabel;
  std::optional<IntelRdt> intelRdt;
  std::optional<Personality> personality;
  bool operator==(const Linux&) const = default;
};

// ---- vm (config-vm.md): honoured by runvm as an alternative to io.runvm.vm.* annotations ----

struct VMHypervisor {
  std::string path;
  std::optional<StringList> parameters;
  bool operator==(const VMHypervisor&) const = default;
};

struct VMKernel {
  std::string path;
  std::optional<StringList> parameters;
  std::optional<std::string> initrd;
  bool operator==(const VMKernel&) const = default;
};

struct VMImage {
  std::string path;
  std::string format;  // raw|qcow2|vdi|vmdk|vhd
  bool operator==(const VMImage&) const = default;
};

struct VM {
  std::optional<VMHypervisor> hypervisor;
  VMKernel kernel;
  std::optional<VMImage> image;
  bool operator==(const VM&) const = default;
};

// ---- the whole document ----

struct Spec {
  std::string ociVersion;
  std::optional<Root> root;
  std::optional<std::vector<Mount>> mounts;
  std::optional<Process> process;  // required for create (validated)
  std::optional<std::string> hostname;
  std::optional<std::string> domainname;
  std::optional<Hooks> hooks;
  std::optional<StringMap> annotations;
  std::optional<Linux> linux;
  std::optional<VM> vm;
  bool operator==(const Spec&) const = default;
};

}  // namespace runvm::oci
