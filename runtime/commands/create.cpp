// runvm create [--bundle DIR] [--console-socket PATH] [--pid-file PATH] <id>
#include <memory>

#include "runtime/commands/common.h"
#include "runtime/commands/verbs.h"
#include "runtime/create_transaction.h"

namespace runvm::runtime {

void add_create_flags(CLI::App& cmd, CreateRequest& req) {
  cmd.add_option("-b,--bundle", req.bundle,
                 "path to the root of the bundle directory, defaults to the current directory");
  cmd.add_option("--console-socket", req.console_socket,
                 "path to an AF_UNIX socket which will receive the master end of the console");
  cmd.add_option("--pid-file", req.pid_file, "specify the file to write the process id to");
  cmd.add_flag("--no-pivot", req.no_pivot,
               "accepted for compatibility (the rootfs is the guest's)");
  cmd.add_flag("--no-new-keyring", req.no_new_keyring, "accepted for compatibility");
  cmd.add_option("--preserve-fds", req.preserve_fds,
                 "only 0 is supported: host fds cannot enter the microVM");
  cmd.add_option("container-id", req.id, "container id")->required();
}

Action setup_create(CLI::App& cmd) {
  auto req = std::make_shared<CreateRequest>();
  add_create_flags(cmd, *req);
  return [req](CommandContext& ctx) -> Result<int> {
    req->root = ctx.global.root;
    req->systemd_cgroup = ctx.global.systemd_cgroup;
    req->debug = [&ctx](std::string_view m) { ctx.log.debug(m); };
    auto state = create_container(*req);
    if (!state) return state.error().wrap(command_context("create", req->id));
    return 0;
  };
}

}  // namespace runvm::runtime
