// runvm exec [flags] <id> <command> [args...] | exec --process process.json <id>
#include <memory>
#include <string>
#include <vector>

#include "base/file_io.h"
#include "oci/parse.h"
#include "oci/state.h"
#include "oci/validate.h"
#include "runtime/commands/common.h"
#include "runtime/commands/verbs.h"
#include "runtime/create_transaction.h"
#include "runtime/exec_process_spec.h"
#include "runtime/vm/exec_session.h"

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

// The process to start, as JSON for the agent: the --process file as given, or
// the container's config.json process with the command line's overrides.
Result<nlohmann::json> process_json(const ExecOptions& o, const oci::State& state) {
  if (!o.process.empty()) {
    auto text = read_file(o.process);
    if (!text) return text.error();
    auto process = oci::parse_process(*text);
    if (!process) return process.error().wrap(o.process);
    auto violations = oci::validate_process(*process, "");
    if (!violations.empty())
      return Error(oci::to_string(violations.front()), EINVAL).wrap(o.process);
    return oci::to_json(*process);
  }
  const std::string config =
      state.runvm.config_path.empty() ? state.bundle + "/config.json" : state.runvm.config_path;
  auto spec = oci::parse_config_file(config);
  if (!spec) return spec.error();
  if (!spec->process) return Error(config + ": the container has no process", EINVAL);
  ExecOverrides ov{.args = o.args,
                   .env = o.env,
                   .cwd = o.cwd,
                   .user = o.user,
                   .additional_gids = o.additional_gids,
                   .tty = o.tty,
                   .caps = o.caps,
                   .no_new_privs = o.no_new_privs};
  auto process = exec_process(*spec->process, ov);
  if (!process) return process.error();
  return oci::to_json(*process);
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
  cmd.add_option("--preserve-fds", o->preserve_fds,
                 "only 0 is supported: host fds cannot enter the microVM");
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
    if (o->preserve_fds < 0)
      return Error("--preserve-fds must not be negative", EINVAL).wrap(where);
    if (o->preserve_fds > 0) return preserve_fds_unsupported(o->preserve_fds).wrap(where);
    if (o->process.empty() && o->args.empty()) {
      return Error("no command given (pass arguments or --process)", EINVAL).wrap(where);
    }
    if (state->status == oci::ContainerStatus::kStopped) {
      return Error("cannot exec in a stopped container", ESRCH).wrap(where);
    }
    // --ignore-paused cannot help: a paused microVM answers nothing until resumed.
    if (state->status == oci::ContainerStatus::kPaused) {
      return Error("cannot exec in a paused container", EINVAL).wrap(where);
    }
    if (state->status != oci::ContainerStatus::kRunning) {
      return Error("cannot exec in a container that has not started", EINVAL).wrap(where);
    }
    auto process = process_json(*o, *state);
    if (!process) return process.error().wrap(where);
    const bool tty = process->value("terminal", false);
    if (tty && o->detach && o->console_socket.empty()) {
      return Error("cannot allocate tty if runvm will detach without setting console socket",
                   EINVAL)
          .wrap(where);
    }
    if (!tty && !o->console_socket.empty()) {
      return Error("cannot use console socket if runvm will not detach or allocate tty", EINVAL)
          .wrap(where);
    }
    vm::ExecIo io{
        .detach = o->detach, .pid_file = o->pid_file, .console_socket = o->console_socket};
    auto code = vm::exec_in_vm(*state, *process, io);
    if (!code) return code.error().wrap(where);
    return *code;
  };
}

}  // namespace runvm::runtime
