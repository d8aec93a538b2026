#include <array>

#include "runtime/commands/command.h"
#include "runtime/commands/verbs.h"

namespace runvm::runtime {

namespace {
// Descriptions follow runc's so `runvm --help` reads like `runc --help`.
const std::array<CommandSpec, 16> kCommands = {{
    {"create", "create a container", setup_create},
    {"delete", "delete any resources held by the container", setup_delete},
    {"events", "display container events and resource usage statistics", setup_events},
    {"exec", "execute new process inside the container", setup_exec, 255},
    {"kill", "send a signal (default: SIGTERM) to the container's init process", setup_kill},
    {"list", "list containers started by runvm with the given root", setup_list},
    {"pause", "pause suspends all processes inside the container", setup_pause},
    {"ps", "display the processes running inside a container", setup_ps},
    {"resume", "resume all processes that have been previously paused", setup_resume},
    {"run", "create and run a container", setup_run},
    {"spec", "create a new specification file", setup_spec},
    {"start", "execute the user defined process in a created container", setup_start},
    {"state", "output the state of a container", setup_state},
    {"update", "update container resource constraints", setup_update},
    {"features", "show the enabled features", setup_features},
    {"check", "check whether this host can run runvm containers (exit 0 when it can)", setup_check},
}};
}  // namespace

std::span<const CommandSpec> command_table() {
  return kCommands;
}

}  // namespace runvm::runtime
