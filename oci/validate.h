// Content rules for a parsed Spec (runtime-spec v1.2 "MUST"s plus the checks
// runc applies before it starts anything). Every violation is reported, each with
// the exact JSON path and a reason:
//   mounts[3].destination: must be an absolute path
//   linux.seccomp.syscalls[0].action: unknown action "SCMP_ACT_FOO"
//   annotations["io.runvm.vm.memory_mib"]: must be a positive integer
// No I/O: whether root.path exists is the runtime's check.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "oci/spec.h"

namespace runvm::oci {

struct Violation {
  std::string path;    // JSON path, e.g. "process.rlimits[2].type"; "" for the document
  std::string reason;  // e.g. "unknown rlimit \"RLIMIT_FOO\""
  bool operator==(const Violation&) const = default;
};

struct ValidateOptions {
  // `create`/`run` need a process; a config used only for e.g. `runvm update`
  // or for a VM template may lack one.
  bool require_process = true;
};

[[nodiscard]] std::vector<Violation> validate(const Spec& spec, const ValidateOptions& opts = {});

// Checks a process object on its own (for `runvm exec --process`). `path` prefixes
// every violation's path: "process" gives "process.args", "" gives "args".
[[nodiscard]] std::vector<Violation> validate_process(const Process& process,
                                                      std::string_view path = "process");

// Checks a resources document on its own (for `runvm update -r`), same path rule.
[[nodiscard]] std::vector<Violation> validate_resources(const Resources& resources,
                                                        std::string_view path = "linux.resources");

// "path: reason" (or just "reason" when path is empty).
[[nodiscard]] std::string to_string(const Violation& v);
// One violation per line, no trailing newline.
[[nodiscard]] std::string format_violations(const std::vector<Violation>& violations);

}  // namespace runvm::oci
