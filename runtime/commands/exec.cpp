// runvm exec [flags] <id> <command> [args...] | exec --process process.json <id>
#include <memory>
#include <string>
#include <vector>

#include "oci/parse.h"
#include "oci/state.h"
#include "oci/validate.h"
#include "runtime/commands/common.h"
#include "runtime/commands/verbs.h"

namespace runvm::runtime {

namespace {

struct ExecOptions {
  std::string id;
  std::vector<std::string> args;
  std::string console_socket;
  std::string cwd;
  std::vector<std::string> env;
  bool tty = false;
  std::string user;
  std::vector<std::string> additional_gids;
  std::string process;
  bool detach = false;
  std::string pid_file;
  std::string process_label;
  std::string apparmor;
  bool no_new_privs = false;
  std::vector<std::string> caps;
  int preserve_fds = 0;
  std::vector<std::string> cgroup;
  bool ignore_paused = false;
};

// A --process file must parse and validate before anything reaches the guest.
Status check_process_file(const std::string& path) {
  auto text = oci::read_file(path);
  if (!text) return text.error();
  auto process = oci::parse_process(*text);
  if (!process) return process.error().wrap(path);
  auto violations = oci::validate_process(*process, "");
  if (!violations.empty()) return Error(oci::to_string(violations.front()), EINVAL).wrap(path);
  return {};
}

}  // namespace

Action setup_exec(CLI::App& cmd) {
  auto o = std::make_shared<ExecOptions>();
  cmd.add_option("--console-socket", o->console_socket,
                 "path to an AF_UNIX socket which will receive the master end of the console");
  cmd.add_option("--cwd", o->cwd, "current working directory in the container");
  cmd.add_option("-e,--env", o->env, "set environment variables")->allow_extra_args(false);
  cmd.add_flag("-t,--tty", o->tty, "allocate a pseudo-TTY");
  cmd.add_option("-u,--user", o->user, "UID (format: <uid>[:<gid>])");
  cmd.add_option("-g,--additional-gids", o->additional_gids, "additional gids")
      ->allow_extra_args(false);
  cmd.add_option("-p,--process", o->process, "path to the process.json");
  cmd.add_flag("-d,--detach", o->detach, "detach from the container's process");
  cmd.add_option("--pid-file", o->pid_file, "specify the file to write the process id to");
  cmd.add_option("--process-label", o->process_label, "set the asm process label");
  cmd.add_option("--apparmor", o->apparmor, "set the apparmor profile for the process");
  cmd.add_flag("--no-new-privs", o->no_new_privs, "set the no new privileges value");
  cmd.add_option("-c,--cap", o->caps, "add a capability to the bounding set")
      ->allow_extra_args(false);
  cmd.add_option("--preserve-fds", o->preserve_fds, "pass N additional file descriptors");
  cmd.add_option("--cgroup", o->cgroup, "run the process in an (existing) sub-cgroup")
      ->allow_extra_args(false);
  cmd.add_flag("--ignore-paused", o->ignore_paused, "allow exec in a paused container");
  cmd.add_option("container-id", o->id, "container id")->required();
  cmd.add_option("command", o->args, "command and arguments to run");
  // Everything after the id belongs to the command: `exec id sh -c x` keeps -c.
  cmd.positionals_at_end();
  return [o](CommandContext& ctx) -> Result<int> {
    const std::string where = command_context("exec", o->id);
    auto state = load_container(ctx, o->id);
    if (!state) return state.error().wrap(where);
    if (o->process.empty() && o->args.empty()) {
      return Error("no command given (pass arguments or --process)", EINVAL).wrap(where);
    }
    if (!o->process.empty()) {
      if (auto ok = check_process_file(o->process); !ok) return ok.error().wrap(where);
    }
    if (state->status == oci::ContainerStatus::kStopped) {
      return Error("cannot exec in a stopped container", ESRCH).wrap(where);
    }
    return not_implemented("exec in the microVM").wrap(where);
  };
}

}  // namespace runvm::runtime
