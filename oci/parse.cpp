#include "oci/parse.h"

#include <cerrno>

#include "base/file_io.h"
#include "oci/json_io.h"
#include "oci/state.h"

namespace runvm::oci {

// ---- field lists: one per spec type, used for both reading and writing ----
// The order is the runtime-spec's (and runc's) order; to_config_text keeps it.

template <class V>
void fields(V& v, Root& s) {
  v("path", s.path);
  v("readonly", s.readonly);
}
template <class V>
void fields(V& v, IdMapping& s) {
  v("containerID", s.containerID);
  v("hostID", s.hostID);
  v("size", s.size);
}
template <class V>
void fields(V& v, Mount& s) {
  v("destination", s.destination);
  v("type", s.type);
  v("source", s.source);
  v("options", s.options);
  v("uidMappings", s.uidMappings);
  v("gidMappings", s.gidMappings);
}
template <class V>
void fields(V& v, ConsoleSize& s) {
  v("height", s.height);
  v("width", s.width);
}
template <class V>
void fields(V& v, User& s) {
  v("uid", s.uid);
  v("gid", s.gid);
  v("umask", s.umask);
  v("additionalGids", s.additionalGids);
}
template <class V>
void fields(V& v, Capabilities& s) {
  v("bounding", s.bounding);
  v("effective", s.effective);
  v("inheritable", s.inheritable);
  v("permitted", s.permitted);
  v("ambient", s.ambient);
}
template <class V>
void fields(V& v, Rlimit& s) {
  v("type", s.type);
  v("hard", s.hard);
  v("soft", s.soft);
}
template <class V>
void fields(V& v, IoPriority& s) {
  v("class", s.class_);
  v("priority", s.priority);
}
template <class V>
void fields(V& v, Scheduler& s) {
  v("policy", s.policy);
  v("nice", s.nice);
  v("priority", s.priority);
  v("flags", s.flags);
  v("runtime", s.runtime);
  v("deadline", s.deadline);
  v("period", s.period);
}
template <class V>
void fields(V& v, CPUAffinity& s) {
  v("initial", s.initial);
  v("final", s.final);
}
template <class V>
void fields(V& v, Process& s) {
  v("terminal", s.terminal);
  v("consoleSize", s.consoleSize);
  v("user", s.user);
  v("args", s.args);
  v("commandLine", s.commandLine);
  v("env", s.env);
  v("cwd", s.cwd);
  v("capabilities", s.capabilities);
  v("rlimits", s.rlimits);
  v("noNewPrivileges", s.noNewPrivileges);
  v("apparmorProfile", s.apparmorProfile);
  v("oomScoreAdj", s.oomScoreAdj);
  v("scheduler", s.scheduler);
  v("selinuxLabel", s.selinuxLabel);
  v("ioPriority", s.ioPriority);
  v("execCPUAffinity", s.execCPUAffinity);
}
template <class V>
void fields(V& v, Hook& s) {
  v("path", s.path);
  v("args", s.args);
  v("env", s.env);
  v("timeout", s.timeout);
}
template <class V>
void fields(V& v, Hooks& s) {
  v("prestart", s.prestart);
  v("createRuntime", s.createRuntime);
  v("createContainer", s.createContainer);
  v("startContainer", s.startContainer);
  v("poststart", s.poststart);
  v("poststop", s.poststop);
}
template <class V>
void fields(V& v, Namespace& s) {
  v("type", s.type);
  v("path", s.path);
}
template <class V>
void fields(V& v, TimeOffset& s) {
  v("secs", s.secs);
  v("nanosecs", s.nanosecs);
}
template <class V>
void fields(V& v, Device& s) {
  v("type", s.type);
  v("path", s.path);
  v("major", s.major);
  v("minor", s.minor);
  v("fileMode", s.fileMode);
  v("uid", s.uid);
  v("gid", s.gid);
}
template <class V>
void fields(V& v, DeviceCgroup& s) {
  v("allow", s.allow);
  v("type", s.type);
  v("major", s.major);
  v("minor", s.minor);
  v("access", s.access);
}
template <class V>
void fields(V& v, Memory& s) {
  v("limit", s.limit);
  v("reservation", s.reservation);
  v("swap", s.swap);
  v("kernel", s.kernel);
  v("kernelTCP", s.kernelTCP);
  v("swappiness", s.swappiness);
  v("disableOOMKiller", s.disableOOMKiller);
  v("useHierarchy", s.useHierarchy);
  v("checkBeforeUpdate", s.checkBeforeUpdate);
}
template <class V>
void fields(V& v, CPU& s) {
  v("shares", s.shares);
  v("quota", s.quota);
  v("burst", s.burst);
  v("period", s.period);
  v("realtimeRuntime", s.realtimeRuntime);
  v("realtimePeriod", s.realtimePeriod);
  v("cpus", s.cpus);
  v("mems", s.mems);
  v("idle", s.idle);
}
template <class V>
void fields(V& v, WeightDevice& s) {
  v("major", s.major);
  v("minor", s.minor);
  v("weight", s.weight);
  v("leafWeight", s.leafWeight);
}
template <class V>
void fields(V& v, ThrottleDevice& s) {
  v("major", s.major);
  v("minor", s.minor);
  v("rate", s.rate);
}
template <class V>
void fields(V& v, BlockIO& s) {
  v("weight", s.weight);
  v("leafWeight", s.leafWeight);
  v("weightDevice", s.weightDevice);
  v("throttleReadBpsDevice", s.throttleReadBpsDevice);
  v("throttleWriteBpsDevice", s.throttleWriteBpsDevice);
  v("throttleReadIOPSDevice", s.throttleReadIOPSDevice);
  v("throttleWriteIOPSDevice", s.throttleWriteIOPSDevice);
}
template <class V>
void fields(V& v, HugepageLimit& s) {
  v("pageSize", s.pageSize);
  v("limit", s.limit);
}
template <class V>
void fields(V& v, InterfacePriority& s) {
  v("name", s.name);
  v("priority", s.priority);
}
template <class V>
void fields(V& v, Network& s) {
  v("classID", s.classID);
  v("priorities", s.priorities);
}
template <class V>
void fields(V& v, Pids& s) {
  v("limit", s.limit);
}
template <class V>
void fields(V& v, Rdma& s) {
  v("hcaHandles", s.hcaHandles);
  v("hcaObjects", s.hcaObjects);
}
template <class V>
void fields(V& v, Resources& s) {
  v("devices", s.devices);
  v("memory", s.memory);
  v("cpu", s.cpu);
  v("pids", s.pids);
  v("blockIO", s.blockIO);
  v("hugepageLimits", s.hugepageLimits);
  v("network", s.network);
  v("rdma", s.rdma);
  v("unified", s.unified);
}
template <class V>
void fields(V& v, SeccompArg& s) {
  v("index", s.index);
  v("value", s.value);
  v("valueTwo", s.valueTwo);
  v("op", s.op);
}
template <class V>
void fields(V& v, SeccompSyscall& s) {
  v("names", s.names);
  v("action", s.action);
  v("errnoRet", s.errnoRet);
  v("args", s.args);
}
template <class V>
void fields(V& v, Seccomp& s) {
  v("defaultAction", s.defaultAction);
  v("defaultErrnoRet", s.defaultErrnoRet);
  v("architectures", s.architectures);
  v("flags", s.flags);
  v("listenerPath", s.listenerPath);
  v("listenerMetadata", s.listenerMetadata);
  v("syscalls", s.syscalls);
}
template <class V>
void fields(V& v, Personality& s) {
  v("domain", s.domain);
  v("flags", s.flags);
}
template <class V>
void fields(V& v, IntelRdt& s) {
  v("closID", s.closID);
  v("l3CacheSchema", s.l3CacheSchema);
  v("memBwSchema", s.memBwSchema);
  v("enableCMT", s.enableCMT);
  v("enableMBM", s.enableMBM);
}
template <class V>
void fields(V& v, NetDevice& s) {
  v("name", s.name);
}
template <class V>
void fields(V& v, Linux& s) {
  v("uidMappings", s.uidMappings);
  v("gidMappings", s.gidMappings);
  v("sysctl", s.sysctl);
  v("resources", s.resources);
  v("cgroupsPath", s.cgroupsPath);
  v("namespaces", s.namespaces);
  v("devices", s.devices);
  v("netDevices", s.netDevices);
  v("seccomp", s.seccomp);
  v("rootfsPropagation", s.rootfsPropagation);
  v("maskedPaths", s.maskedPaths);
  v("readonlyPaths", s.readonlyPaths);
  v("mountLabel", s.mountLabel);
  v("intelRdt", s.intelRdt);
  v("personality", s.personality);
  v("timeOffsets", s.timeOffsets);
}
template <class V>
void fields(V& v, VMHypervisor& s) {
  v("path", s.path);
  v("parameters", s.parameters);
}
template <class V>
void fields(V& v, VMKernel& s) {
  v("path", s.path);
  v("parameters", s.parameters);
  v("initrd", s.initrd);
}
template <class V>
void fields(V& v, VMImage& s) {
  v("path", s.path);
  v("format", s.format);
}
template <class V>
void fields(V& v, VM& s) {
  v("hypervisor", s.hypervisor);
  v("kernel", s.kernel);
  v("image", s.image);
}
template <class V>
void fields(V& v, Spec& s) {
  v("ociVersion", s.ociVersion);
  v("process", s.process);
  v("root", s.root);
  v("hostname", s.hostname);
  v("domainname", s.domainname);
  v("mounts", s.mounts);
  v("hooks", s.hooks);
  v("annotations", s.annotations);
  v("linux", s.linux);
  v("vm", s.vm);
}

namespace {

using detail::json;

using detail::decode;

template <class T>
Result<T> read_doc(const json& doc) {
  if (!doc.is_object()) {
    return Error(
        "expected a JSON object at the top level, got " + std::string(detail::type_name(doc)),
        EINVAL);
  }
  detail::Reader r;
  T out{};
  r.read(doc, "", out);
  if (r.err) {
    r.err->err = EINVAL;
    return std::move(*r.err);
  }
  return out;
}

template <class T>
Result<T> read_text(std::string_view text) {
  auto doc = decode(text);
  if (!doc) return std::move(doc).error();
  return read_doc<T>(*doc);
}

}  // namespace

Result<Spec> parse_config(std::string_view text) {
  return read_text<Spec>(text);
}
Result<Spec> config_from_json(const nlohmann::json& doc) {
  return read_doc<Spec>(doc);
}

Result<Spec> parse_config_file(const std::string& path) {
  auto text = read_file(path);
  if (!text) return std::move(text).error();
  auto spec = parse_config(*text);
  if (!spec) return std::move(spec).error().wrap(path);
  return spec;
}

Result<Process> parse_process(std::string_view text) {
  return read_text<Process>(text);
}
Result<Process> process_from_json(const nlohmann::json& doc) {
  return read_doc<Process>(doc);
}
Result<Resources> parse_resources(std::string_view text) {
  return read_text<Resources>(text);
}
Result<Resources> resources_from_json(const nlohmann::json& doc) {
  return read_doc<Resources>(doc);
}

nlohmann::json to_json(const Spec& spec) {
  return detail::Writer<nlohmann::json>{}.val(spec);
}
nlohmann::json to_json(const Process& p) {
  return detail::Writer<nlohmann::json>{}.val(p);
}
nlohmann::json to_json(const Resources& r) {
  return detail::Writer<nlohmann::json>{}.val(r);
}

std::string to_config_text(const Spec& spec, int indent) {
  auto doc = detail::Writer<nlohmann::ordered_json>{}.val(spec);
  return doc.dump(indent > 0 ? indent : -1, '\t', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace runvm::oci
