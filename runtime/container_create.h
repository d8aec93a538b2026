// `create` (and the first half of `run`): validate the id, load the bundle,
// claim the state directory, start the microVM. Until the VMM is wired in
// (a later issue) the last step fails and everything is rolled back.
#pragma once

#include <string>

#include "oci/result.h"
#include "oci/state.h"

namespace runvm::runtime {

struct CreateRequest {
  std::string root;  // --root
  std::string id;
  std::string bundle;          // --bundle; "" = current directory
  std::string console_socket;  // --console-socket
  std::string pid_file;        // --pid-file
  bool no_pivot = false;       // accepted: the rootfs is the guest's
  bool no_new_keyring = false;
  int preserve_fds = 0;
  // runvm leaves (create, run --detach): the terminal then needs --console-socket.
  bool detach = true;
};

// On success the container is "created" and its state is returned. On failure
// no state directory for the id is left behind (unless it existed before).
// Errors carry no "create <id>" prefix; the caller adds its own verb.
[[nodiscard]] Result<oci::State> create_container(const CreateRequest& req);

}  // namespace runvm::runtime
