// The long-lived process standing for a container (what `create` writes to
// --pid-file): `runvm __supervise <container-dir> <ready-fd>`, re-executed by
// create. It starts runvm-vmm as its child, creates the container through the
// guest agent, reports readiness on <ready-fd> ("OK\n" or "ERR <message>\n"),
// serves <container-dir>/ctl.sock, relays stdio and exits with the container's
// exit status (128+N for signal N) once it exits, after stopping the VM.
// Reads <container-dir>/vm.json (written by launch_vm).
#pragma once

namespace runvm::runtime::vm {

inline constexpr const char* kSuperviseCommand = "__supervise";

// argv: {"runvm", "__supervise", dir, fd}. Returns the process exit status.
int supervise_main(int argc, char** argv);

}  // namespace runvm::runtime::vm
