// Malformed config.json documents: each must fail with the exact JSON path and reason.
// A case starts from the default spec (runc's), applies one change, and expects
// exactly one message: the parse error, or the single validation violation.
#include <functional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "oci/default_spec.h"
#include "oci/parse.h"
#include "oci/validate.h"

namespace runvm::oci {
namespace {

using nlohmann::json;

struct Case {
  const char* name;
  std::function<void(json&)> mutate;
  std::string expected;  // "path: reason"
};

json with_seccomp(json& j) {
  j["linux"]["seccomp"] = json::parse(R"({
    "defaultAction": "SCMP_ACT_ERRNO",
    "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
    "syscalls": [{"names": ["read", "write"], "action": "SCMP_ACT_ALLOW",
                  "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_EQ"}]}]
  })");
  return j["linux"]["seccomp"];
}

json& seccomp(json& j) {
  with_seccomp(j);
  return j["linux"]["seccomp"];
}

void add_user_ns(json& j) {
  j["linux"]["namespaces"].push_back({{"type", "user"}});
}

const Case kCases[] = {
    // ---- JSON types (parse errors) ----
    {"ArgNotString",
     [](json& j) {
       j["process"]["args"] = {"sh", 5};
     },
     "process.args[1]: expected string, got number"},
    {"TerminalNotBool", [](json& j) { j["process"]["terminal"] = "yes"; },
     "process.terminal: expected boolean, got string"},
    {"UidNegative", [](json& j) { j["process"]["user"]["uid"] = -1; },
     "process.user.uid: -1 is out of range for uint32"},
    {"GidFloat", [](json& j) { j["process"]["user"]["gid"] = 1.5; },
     "process.user.gid: expected integer, got 1.5"},
    {"OomScoreAdjTooBigForInt32", [](json& j) { j["process"]["oomScoreAdj"] = 4294967296LL; },
     "process.oomScoreAdj: 4294967296 is out of range for int32"},
    {"MountsNotArray", [](json& j) { j["mounts"] = json::object(); },
     "mounts: expected array, got object"},
    {"MountNotObject", [](json& j) { j["mounts"][0] = "proc"; },
     "mounts[0]: expected object, got string"},
    {"MountOptionNotString", [](json& j) { j["mounts"][2]["options"][1] = true; },
     "mounts[2].options[1]: expected string, got boolean"},
    {"RootNotObject", [](json& j) { j["root"] = "rootfs"; }, "root: expected object, got string"},
    {"MemoryLimitString",
     [](json& j) {
       j["linux"]["resources"]["memory"] = {{"limit", "1G"}};
     },
     "linux.resources.memory.limit: expected integer, got string"},
    {"AnnotationValueNotString",
     [](json& j) {
       j["annotations"] = {{"a.b", 1}};
     },
     "annotations[\"a.b\"]: expected string, got number"},
    {"SysctlNotObject", [](json& j) { j["linux"]["sysctl"] = json::array(); },
     "linux.sysctl: expected object, got array"},
    {"SeccompNamesNotArray", [](json& j) { seccomp(j)["syscalls"][0]["names"] = "read"; },
     "linux.seccomp.syscalls[0].names: expected array, got string"},
    {"RlimitHardNegative", [](json& j) { j["process"]["rlimits"][0]["hard"] = -5; },
     "process.rlimits[0].hard: -5 is out of range for uint64"},
    {"NamespaceTypeNumber", [](json& j) { j["linux"]["namespaces"][1]["type"] = 7; },
     "linux.namespaces[1].type: expected string, got number"},
    {"HooksNotObject", [](json& j) { j["hooks"] = json::array(); },
     "hooks: expected object, got array"},

    // ---- validation: document ----
    {"OciVersionMajor2", [](json& j) { j["ociVersion"] = "2.0.0"; },
     "ociVersion: must be 1.x.y, got \"2.0.0\""},
    {"OciVersionNotSemver", [](json& j) { j["ociVersion"] = "1.0"; },
     "ociVersion: must be a semantic version like \"1.2.0\", got \"1.0\""},
    {"OciVersionMissing", [](json& j) { j.erase("ociVersion"); }, "ociVersion: is required"},
    {"RootMissing", [](json& j) { j.erase("root"); }, "root: is required"},
    {"RootPathEmpty", [](json& j) { j["root"]["path"] = ""; }, "root.path: is required"},
    {"ProcessMissing", [](json& j) { j.erase("process"); }, "process: is required"},
    {"HostnameWithoutUts", [](json& j) { j["linux"]["namespaces"].erase(3); },  // [3] is uts
     "hostname: requires a UTS namespace in linux.namespaces"},
    {"MountDestinationRelative", [](json& j) { j["mounts"][3]["destination"] = "dev/shm"; },
     "mounts[3].destination: must be an absolute path"},
    {"MountDestinationMissing", [](json& j) { j["mounts"][1].erase("destination"); },
     "mounts[1].destination: is required"},
    {"AnnotationUnknownVmKnob",
     [](json& j) {
       j["annotations"] = {{"io.runvm.vm.cpus", "2"}};
     },
     "annotations[\"io.runvm.vm.cpus\"]: unknown runvm VM annotation (see `runvm features`)"},
    {"AnnotationBadMemory",
     [](json& j) {
       j["annotations"] = {{"io.runvm.vm.memory_mib", "lots"}};
     },
     "annotations[\"io.runvm.vm.memory_mib\"]: must be an integer in [64, 1048576], got \"lots\""},
    {"VmKernelRelative",
     [](json& j) {
       j["vm"] = {{"kernel", {{"path", "vmlinuz"}}}};
     },
     "vm.kernel.path: must be an absolute path"},

    // ---- validation: process ----
    {"ArgsEmpty", [](json& j) { j["process"]["args"] = json::array(); },
     "process.args: must contain at least one element"},
    {"ArgsMissing", [](json& j) { j["process"].erase("args"); },
     "process.args: must contain at least one element"},
    {"CwdRelative", [](json& j) { j["process"]["cwd"] = "home"; },
     "process.cwd: must be an absolute path"},
    {"CwdMissing", [](json& j) { j["process"].erase("cwd"); }, "process.cwd: is required"},
    {"EnvWithoutEquals", [](json& j) { j["process"]["env"].push_back("FOO"); },
     "process.env[2]: must be of the form NAME=value, got \"FOO\""},
    {"ConsoleSizeWithoutTerminal",
     [](json& j) {
       j["process"]["terminal"] = false;
       j["process"]["consoleSize"] = {{"height", 24}, {"width", 80}};
     },
     "process.consoleSize: requires process.terminal to be true"},
    {"UnknownCapability", [](json& j) { j["process"]["capabilities"]["bounding"][1] = "CAP_FOO"; },
     "process.capabilities.bounding[1]: unknown capability \"CAP_FOO\""},
    {"CapabilityWithoutPrefix",
     [](json& j) { j["process"]["capabilities"]["ambient"][0] = "KILL"; },
     "process.capabilities.ambient[0]: unknown capability \"KILL\""},
    {"UnknownRlimit", [](json& j) { j["process"]["rlimits"][0]["type"] = "RLIMIT_FOO"; },
     "process.rlimits[0].type: unknown rlimit \"RLIMIT_FOO\""},
    {"DuplicateRlimit",
     [](json& j) {
       j["process"]["rlimits"].push_back({{"type", "RLIMIT_NOFILE"}, {"soft", 1}, {"hard", 1}});
     },
     "process.rlimits[1].type: duplicate rlimit \"RLIMIT_NOFILE\""},
    {"RlimitSoftAboveHard", [](json& j) { j["process"]["rlimits"][0]["soft"] = 2048; },
     "process.rlimits[0].soft: must not exceed hard (2048 > 1024)"},
    {"OomScoreAdjTooHigh", [](json& j) { j["process"]["oomScoreAdj"] = 1001; },
     "process.oomScoreAdj: must be in [-1000, 1000], got 1001"},
    {"OomScoreAdjTooLow", [](json& j) { j["process"]["oomScoreAdj"] = -1001; },
     "process.oomScoreAdj: must be in [-1000, 1000], got -1001"},
    {"IoPriorityUnknownClass",
     [](json& j) {
       j["process"]["ioPriority"] = {{"class", "IOPRIO_CLASS_FAST"}, {"priority", 1}};
     },
     "process.ioPriority.class: unknown class \"IOPRIO_CLASS_FAST\""},
    {"IoPriorityOutOfRange",
     [](json& j) {
       j["process"]["ioPriority"] = {{"class", "IOPRIO_CLASS_BE"}, {"priority", 8}};
     },
     "process.ioPriority.priority: must be in [0, 7], got 8"},
    {"UmaskTooBig", [](json& j) { j["process"]["user"]["umask"] = 01000; },
     "process.user.umask: must be at most 0777 (511), got 512"},
    {"SchedulerUnknownPolicy",
     [](json& j) {
       j["process"]["scheduler"] = {{"policy", "SCHED_FAST"}};
     },
     "process.scheduler.policy: unknown policy \"SCHED_FAST\""},
    {"SchedulerNiceOutOfRange",
     [](json& j) {
       j["process"]["scheduler"] = {{"policy", "SCHED_OTHER"}, {"nice", 20}};
     },
     "process.scheduler.nice: must be in [-20, 19], got 20"},
    {"ExecCpuAffinityBad",
     [](json& j) {
       j["process"]["execCPUAffinity"] = {{"initial", "3-1"}};
     },
     "process.execCPUAffinity.initial: must be a CPU list like \"0-3,7\", got \"3-1\""},

    // ---- validation: hooks ----
    {"HookPathRelative",
     [](json& j) {
       j["hooks"] = {{"prestart", {{{"path", "bin/hook"}}}}};
     },
     "hooks.prestart[0].path: must be an absolute path"},
    {"HookTimeoutZero",
     [](json& j) {
       j["hooks"] = {{"poststop", {{{"path", "/bin/true"}, {"timeout", 0}}}}};
     },
     "hooks.poststop[0].timeout: must be greater than zero, got 0"},
    {"HookPathMissing",
     [](json& j) {
       j["hooks"] = {{"createRuntime", {{{"path", "/bin/true"}}, {{"args", {"x"}}}}}};
     },
     "hooks.createRuntime[1].path: is required"},

    // ---- validation: linux namespaces and id mappings ----
    {"UnknownNamespace", [](json& j) { j["linux"]["namespaces"][2]["type"] = "foo"; },
     "linux.namespaces[2].type: unknown namespace type \"foo\""},
    {"DuplicateNamespace",
     [](json& j) {
       j["linux"]["namespaces"].push_back({{"type", "pid"}});
     },
     "linux.namespaces[5].type: duplicate namespace type \"pid\""},
    {"NamespacePathRelative",
     [](json& j) { j["linux"]["namespaces"][1]["path"] = "proc/1/ns/net"; },
     "linux.namespaces[1].path: must be an absolute path"},
    {"UidMappingSizeZero",
     [](json& j) {
       add_user_ns(j);
       j["linux"]["uidMappings"] = {{{"containerID", 0}, {"hostID", 1000}, {"size", 0}}};
       j["linux"]["gidMappings"] = {{{"containerID", 0}, {"hostID", 1000}, {"size", 1}}};
     },
     "linux.uidMappings[0].size: must be greater than zero"},
    {"GidMappingSizeZero",
     [](json& j) {
       add_user_ns(j);
       j["linux"]["uidMappings"] = {{{"containerID", 0}, {"hostID", 1000}, {"size", 1}}};
       j["linux"]["gidMappings"] = {{{"containerID", 0}, {"hostID", 1000}, {"size", 1}},
                                    {{"containerID", 1}, {"hostID", 2000}, {"size", 0}}};
     },
     "linux.gidMappings[1].size: must be greater than zero"},
    {"MappingsWithoutUserNs",
     [](json& j) {
       j["linux"]["uidMappings"] = {{{"containerID", 0}, {"hostID", 1000}, {"size", 1}}};
     },
     "linux.uidMappings: requires a user namespace in linux.namespaces"},
    {"UserNsWithoutMappings", [](json& j) { add_user_ns(j); },
     "linux.uidMappings: is required with a new user namespace (or give the namespace a path)"},
    {"TimeOffsetsWithoutTimeNs",
     [](json& j) {
       j["linux"]["timeOffsets"] = {{"boottime", {{"secs", 5}}}};
     },
     "linux.timeOffsets: requires a time namespace in linux.namespaces"},
    {"TimeOffsetUnknownClock",
     [](json& j) {
       j["linux"]["namespaces"].push_back({{"type", "time"}});
       j["linux"]["timeOffsets"] = {{"realtime", {{"secs", 5}}}};
     },
     "linux.timeOffsets[\"realtime\"]: unknown clock \"realtime\" (want \"boottime\" or "
     "\"monotonic\")"},

    // ---- validation: devices ----
    {"DeviceUnknownType",
     [](json& j) {
       j["linux"]["devices"] = {{{"type", "x"}, {"path", "/dev/x"}}};
     },
     "linux.devices[0].type: unknown device type \"x\" (want c, b, u or p)"},
    {"DeviceMissingMajor",
     [](json& j) {
       j["linux"]["devices"] = {{{"type", "c"}, {"path", "/dev/null"}, {"minor", 3}}};
     },
     "linux.devices[0].major: is required for type \"c\""},
    {"DevicePathRelative",
     [](json& j) {
       j["linux"]["devices"] = {{{"type", "p"}, {"path", "/dev/fifo"}},
                                {{"type", "b"}, {"path", "dev/sda"}, {"major", 8}, {"minor", 0}}};
     },
     "linux.devices[1].path: must be an absolute path"},
    {"DeviceCgroupBadAccess",
     [](json& j) { j["linux"]["resources"]["devices"][0]["access"] = "rwx"; },
     "linux.resources.devices[0].access: must contain only the letters r, w and m, got \"rwx\""},
    {"DeviceCgroupBadType", [](json& j) { j["linux"]["resources"]["devices"][0]["type"] = "p"; },
     "linux.resources.devices[0].type: unknown device type \"p\" (want a, c or b)"},

    // ---- validation: resources ----
    {"SwappinessTooHigh",
     [](json& j) {
       j["linux"]["resources"]["memory"] = {{"swappiness", 101}};
     },
     "linux.resources.memory.swappiness: must be in [0, 100], got 101"},
    {"CpusBadList",
     [](json& j) {
       j["linux"]["resources"]["cpu"] = {{"cpus", "0-"}};
     },
     "linux.resources.cpu.cpus: must be a CPU list like \"0-3,7\", got \"0-\""},
    {"HugepageBadSize",
     [](json& j) {
       j["linux"]["resources"]["hugepageLimits"] = {{{"pageSize", "2M"}, {"limit", 1}}};
     },
     "linux.resources.hugepageLimits[0].pageSize: must be a size like \"2MB\" or \"1GB\", got "
     "\"2M\""},
    {"BlockIoWeightTooLow",
     [](json& j) {
       j["linux"]["resources"]["blockIO"] = {{"weight", 5}};
     },
     "linux.resources.blockIO.weight: must be in [10, 1000], got 5"},
    {"UnifiedKeyWithSlash",
     [](json& j) {
       j["linux"]["resources"]["unified"] = {{"memory/max", "1G"}};
     },
     "linux.resources.unified[\"memory/max\"]: must be a cgroup v2 file name like \"memory.max\""},

    // ---- validation: seccomp ----
    {"SeccompUnknownDefaultAction", [](json& j) { seccomp(j)["defaultAction"] = "SCMP_ACT_FOO"; },
     "linux.seccomp.defaultAction: unknown action \"SCMP_ACT_FOO\""},
    {"SeccompUnknownAction", [](json& j) { seccomp(j)["syscalls"][0]["action"] = "SCMP_ACT_FOO"; },
     "linux.seccomp.syscalls[0].action: unknown action \"SCMP_ACT_FOO\""},
    {"SeccompUnknownOperator",
     [](json& j) { seccomp(j)["syscalls"][0]["args"][0]["op"] = "SCMP_CMP_FOO"; },
     "linux.seccomp.syscalls[0].args[0].op: unknown operator \"SCMP_CMP_FOO\""},
    {"SeccompArgIndexTooBig", [](json& j) { seccomp(j)["syscalls"][0]["args"][0]["index"] = 6; },
     "linux.seccomp.syscalls[0].args[0].index: must be in [0, 5], got 6"},
    {"SeccompUnknownArch", [](json& j) { seccomp(j)["architectures"][1] = "SCMP_ARCH_FOO"; },
     "linux.seccomp.architectures[1]: unknown architecture \"SCMP_ARCH_FOO\""},
    {"SeccompUnknownFlag", [](json& j) { seccomp(j)["flags"] = {"SECCOMP_FILTER_FLAG_FOO"}; },
     "linux.seccomp.flags[0]: unknown flag \"SECCOMP_FILTER_FLAG_FOO\""},
    {"SeccompNoNames", [](json& j) { seccomp(j)["syscalls"][0]["names"] = json::array(); },
     "linux.seccomp.syscalls[0].names: must contain at least one element"},
    {"SeccompNotifyWithoutListener",
     [](json& j) { seccomp(j)["syscalls"][0]["action"] = "SCMP_ACT_NOTIFY"; },
     "linux.seccomp.listenerPath: is required when an action is SCMP_ACT_NOTIFY"},
    {"SeccompErrnoRetWithAllow", [](json& j) { seccomp(j)["syscalls"][0]["errnoRet"] = 1; },
     "linux.seccomp.syscalls[0].errnoRet: only valid with SCMP_ACT_ERRNO or SCMP_ACT_TRACE"},

    // ---- validation: other linux fields ----
    {"RootfsPropagationUnknown", [](json& j) { j["linux"]["rootfsPropagation"] = "everywhere"; },
     "linux.rootfsPropagation: unknown propagation \"everywhere\""},
    {"MaskedPathRelative", [](json& j) { j["linux"]["maskedPaths"][1] = "proc/asound"; },
     "linux.maskedPaths[1]: must be an absolute path"},
    {"ReadonlyPathRelative", [](json& j) { j["linux"]["readonlyPaths"][4] = "sysrq"; },
     "linux.readonlyPaths[4]: must be an absolute path"},
    {"PersonalityUnknownDomain",
     [](json& j) {
       j["linux"]["personality"] = {{"domain", "BSD"}};
     },
     "linux.personality.domain: unknown domain \"BSD\""},
    {"PersonalityFlag",
     [](json& j) {
       j["linux"]["personality"] = {{"domain", "LINUX"}, {"flags", {"ADDR_NO_RANDOMIZE"}}};
     },
     "linux.personality.flags[0]: unknown flag \"ADDR_NO_RANDOMIZE\" (no flags are defined)"},
};

// One ctest entry for the whole table (a process per case would cost more than the
// checks); a failure names its case.
TEST(MalformedConfig, EachCaseReportsPathAndReason) {
  EXPECT_GE(std::size(kCases), 40u);
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.name);
    json doc = to_json(default_spec());
    c.mutate(doc);
    auto spec = parse_config(doc.dump());
    std::string got;
    if (!spec) {
      got = spec.error().message;
    } else {
      got = format_violations(validate(*spec));
    }
    EXPECT_EQ(got, c.expected) << "document: " << doc.dump();
  }
}

TEST(MalformedConfigText, SyntaxErrorNamesLineAndColumn) {
  auto s = parse_config("{\n  \"ociVersion\": \"1.2.0\",\n  \"root\": {\"path\": }\n}");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message.rfind("invalid JSON: parse error at line 3, column 20", 0), 0u)
      << s.error().message;
  EXPECT_EQ(s.error().err, EINVAL);
}

TEST(MalformedConfigText, TopLevelMustBeObject) {
  auto s = parse_config("[1, 2]");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message, "expected a JSON object at the top level, got array");
}

// Found by oci_config_fuzzer: an overflowing number is nlohmann's out_of_range,
// not a parse_error, and used to escape as an exception and abort runvm.
TEST(MalformedConfigText, OverflowingNumberIsAnErrorNotACrash) {
  for (const char* text :
       {R"({"ociVersion": 1E400})", R"({"process": {"user": {"uid": -1e999}}})"}) {
    auto s = parse_config(text);
    ASSERT_FALSE(s.ok()) << text;
    EXPECT_EQ(s.error().message.rfind("invalid JSON: number overflow", 0), 0u) << s.error().message;
    EXPECT_EQ(s.error().err, EINVAL);
  }
}

TEST(MalformedConfigText, EmptyDocument) {
  auto s = parse_config("");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message.rfind("invalid JSON: ", 0), 0u) << s.error().message;
}

TEST(MalformedConfigFile, MissingFileCarriesErrno) {
  auto s = parse_config_file("/nonexistent/runvm/config.json");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().err, ENOENT);
  EXPECT_EQ(s.error().message, "open /nonexistent/runvm/config.json: No such file or directory");
}

TEST(Validation, ReportsEveryViolationInDocumentOrder) {
  json doc = to_json(default_spec());
  doc["ociVersion"] = "0.9.0";
  doc["process"]["cwd"] = "tmp";
  doc["mounts"][0]["destination"] = "proc";
  doc["linux"]["namespaces"][0]["type"] = "pids";
  auto spec = parse_config(doc.dump());
  ASSERT_TRUE(spec.ok()) << spec.error().message;
  std::vector<Violation> want = {
      {"ociVersion", "must be 1.x.y, got \"0.9.0\""},
      {"mounts[0].destination", "must be an absolute path"},
      {"process.cwd", "must be an absolute path"},
      {"linux.namespaces[0].type", "unknown namespace type \"pids\""},
  };
  EXPECT_EQ(validate(*spec), want);
  EXPECT_EQ(format_violations(want),
            "ociVersion: must be 1.x.y, got \"0.9.0\"\n"
            "mounts[0].destination: must be an absolute path\n"
            "process.cwd: must be an absolute path\n"
            "linux.namespaces[0].type: unknown namespace type \"pids\"");
}

TEST(Validation, ProcessOptionalWhenNotRequired) {
  Spec s = default_spec();
  s.process.reset();
  EXPECT_TRUE(validate(s, {.require_process = false}).empty());
}

TEST(Validation, ExecProcessPathsAreRelative) {
  Process p;
  p.cwd = "x";
  auto v = validate_process(p, "");
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(to_string(v[0]), "args: must contain at least one element");
  EXPECT_EQ(to_string(v[1]), "cwd: must be an absolute path");
}

TEST(Validation, UpdateResources) {
  auto r = parse_resources(R"({"memory": {"swappiness": 200}, "cpu": {"cpus": "0,2-3"}})");
  ASSERT_TRUE(r.ok()) << r.error().message;
  auto v = validate_resources(*r, "");
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(to_string(v[0]), "memory.swappiness: must be in [0, 100], got 200");
  auto bad = parse_resources(R"({"pids": {"limit": "many"}})");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message, "pids.limit: expected integer, got string");
}

TEST(Validation, SemverForms) {
  for (const char* ok : {"1.0.0", "1.2.0", "1.0.2-dev", "1.1.0-rc.1", "1.0.0+build.5", "1.10.3"}) {
    Spec s = default_spec();
    s.ociVersion = ok;
    EXPECT_TRUE(validate(s).empty()) << ok;
  }
  for (const char* bad : {"1", "1.0", "v1.0.0", "1.0.0.0", "01.0.0", "1.0.0-", "1..0", "1.0.x"}) {
    Spec s = default_spec();
    s.ociVersion = bad;
    auto v = validate(s);
    ASSERT_EQ(v.size(), 1u) << bad;
    EXPECT_EQ(v[0].path, "ociVersion");
  }
}

}  // namespace
}  // namespace runvm::oci
