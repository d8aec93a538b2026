// The process `runvm exec` starts, built as runc builds it: the container's own
// config.json process is the base; the command line replaces args, appends env,
// and overrides cwd, user, terminal, capabilities and noNewPrivileges.
#pragma once

#include <string>
#include <vector>

#include "base/result.h"
#include "oci/spec.h"

namespace runvm::runtime {

struct ExecOverrides {
  std::vector<std::string> args = {};
  std::vector<std::string> env = {};  // KEY=VALUE, replacing a same-named variable
  std::string cwd = {};
  std::string user = {};  // "<uid>[:<gid>]"
  std::vector<std::string> additional_gids = {};
  bool tty = false;
  std::vector<std::string> caps = {};  // added to every capability set but ambient
  bool no_new_privs = false;
};

// Errors name the bad flag value ("--user \"x\": ...").
[[nodiscard]] Result<oci::Process> exec_process(const oci::Process& base, const ExecOverrides& o);

}  // namespace runvm::runtime
