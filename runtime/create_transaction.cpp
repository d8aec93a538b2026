#include "runtime/create_transaction.h"

#include <cerrno>
#include <chrono>

#include <signal.h>
#include <sys/wait.h>

#include "oci/cgroup2.h"
#include "runtime/bundle.h"
#include "runtime/container_id.h"
#include "runtime/hooks.h"
#include "runtime/state_dir.h"
#include "runtime/time_format.h"
#include "runtime/vm/host_cgroup.h"
#include "runtime/vm/host_namespaces.h"
#include "runtime/vm/launch_supervisor.h"
#include "runtime/vm/supervisor_client.h"
#include "runtime/vm/vm_layout.h"
#include "runtime/vm/vm_teardown.h"

namespace runvm::runtime {

namespace {

oci::State initial_state(const CreateRequest& req, const Bundle& bundle) {
  oci::State s;
  s.ociVersion = oci::kSpecVersion;
  s.id = req.id;
  s.status = oci::ContainerStatus::kCreating;
  s.bundle = bundle.path;
  if (bundle.spec.annotations) s.annotations = *bundle.spec.annotations;
  s.runvm.created = rfc3339_nano_utc(std::chrono::system_clock::now());
  s.runvm.rootfs = bundle.rootfs;
  s.runvm.config_path = bundle.config_path;
  return s;
}

// runc's rules for where a terminal's master end goes.
Status check_console(const CreateRequest& req, const oci::Spec& spec) {
  bool terminal = spec.process && spec.process->terminal.value_or(false);
  if (terminal && req.detach && req.console_socket.empty()) {
    return Error("cannot allocate tty if runvm will detach without setting console socket", EINVAL);
  }
  if (!req.console_socket.empty() && (!terminal || !req.detach)) {
    return Error("cannot use console socket if runvm will not detach or allocate tty", EINVAL);
  }
  return {};
}

// Boots the container's microVM (runtime/vm) and leaves its process held.
Status start_vm(const CreateRequest& req, const Bundle& bundle, oci::State& state) {
  vm::LaunchRequest launch{StateDir(req.root).container_dir(req.id), req.id, req.pid_file,
                           req.console_socket, req.systemd_cgroup};
  return vm::launch_vm(launch, bundle, state);
}

}  // namespace

Error preserve_fds_unsupported(int n) {
  return Error("--preserve-fds " + std::to_string(n) +
                   ": host file descriptors cannot be passed into the microVM",
               ENOTSUP);
}

Result<oci::State> create_container(const CreateRequest& req) {
  // runc's order: id format, then the bundle, then whether the id is taken.
  if (auto ok = validate_container_id(req.id); !ok) return ok.error();
  if (req.preserve_fds < 0) return Error("--preserve-fds must not be negative", EINVAL);
  if (req.preserve_fds > 0) return preserve_fds_unsupported(req.preserve_fds);
  auto bundle = load_bundle(req.bundle);
  if (!bundle) return bundle.error();
  if (req.debug && !vm::plan_host_namespaces(bundle->spec).wants_nic())
    req.debug("container " + req.id +
              ": config.json has no network namespace, so the container would share the "
              "runtime's (host) network; the VM gets no NIC");
  if (req.debug && bundle->spec.linux && bundle->spec.linux->cgroupsPath &&
      !bundle->spec.linux->cgroupsPath->empty() && !oci::is_cgroup2(vm::kCgroupRoot))
    req.debug("container " + req.id + ": " + vm::kCgroupRoot +
              " is not cgroup v2, so linux.cgroupsPath is not made on the host; the limits "
              "hold inside the guest only");
  if (auto ok = check_console(req, bundle->spec); !ok) return ok.error();

  StateDir dir(req.root);
  oci::State state = initial_state(req, *bundle);
  auto lock = dir.create(state);
  if (!lock) return lock.error();

  if (auto ok = start_vm(req, *bundle, state); !ok) {
    if (auto removed = dir.remove(req.id); !removed) {
      return Error(ok.error().message + " (cleanup failed: " + removed.error().message + ")",
                   ok.error().err);
    }
    return ok.error();
  }
  auto undo = [&](const Error& e) -> Error {
    ::kill(state.pid, SIGKILL);
    int ws;
    ::waitpid(state.pid, &ws, 0);
    (void)vm::release_outside_state(vm::VmLayout(dir.container_dir(req.id)), req.id);
    (void)dir.remove(req.id);
    return e;
  };
  // The container exists (held in the guest): prestart, createRuntime and
  // createContainer hooks see status "creating"; a failure undoes the create.
  for (const char* point : {"prestart", "createRuntime", "createContainer"}) {
    if (auto ok = run_hooks(point, hooks_for(bundle->spec, point), state); !ok)
      return undo(ok.error());
  }
  if (auto ok = vm::attach_network(state); !ok) return undo(ok.error());
  state.status = oci::ContainerStatus::kCreated;
  if (auto ok = dir.save(state); !ok) return ok.error();
  return state;
}

}  // namespace runvm::runtime
