// The guest side of the agent protocol: one poll loop serving any number of
// host connections, spawning the container's processes through a Launcher,
// pumping their stdio, reaping children (all of them: as PID 1 it also reaps
// orphans) and reporting exits.
//
// Not thread-safe; run() must be called in a single-threaded process because
// it blocks SIGCHLD (read through a signalfd) and ignores SIGPIPE.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "agent/launcher.h"
#include "agent/protocol.h"
#include "base/result.h"

namespace runvm::agent {

struct ServerOptions {
  std::string agent_name = "runvm-agent";
  // Keep serving when the last connection closes (the guest agent: hosts reconnect).
  // Without a listener the loop always ends when no connection is left.
  bool keep_running = true;
  // When the container's init process exits, SIGKILL every other process of the
  // container (runc's semantics: the container stops with its init).
  bool kill_all_on_init_exit = true;
  // The guest's boot steps, sent with every HelloReply (its `now` filled in then).
  std::optional<GuestBootTimes> boot;
  // A pod VM: the launcher of a further container (`create` with a rootfs), whose root
  // filesystem the host placed at `rootfs`. Unset: one container per VM.
  std::function<Result<std::unique_ptr<Launcher>>(const std::string& container_id,
                                                  const std::string& rootfs)>
      member_launcher;
  // A template VM (saved before any container, started again from the snapshot): what
  // `restored` does (reseed, clock, the deferred mounts). Set: nothing is created
  // before it succeeded once. Unset: `restored` is refused.
  std::function<Status(const RestoredReq&)> on_restored;
};

class Server {
 public:
  explicit Server(Launcher& launcher, ServerOptions opts = {});
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Serves an already connected stream socket (takes ownership of fd).
  void add_connection(int fd);
  // Accepts connections on a listening socket (takes ownership of fd).
  void set_listener(int fd);

  // Runs until no listener and no connection is left. Processes still alive
  // then are killed with SIGKILL and reaped. Returns an error only when the
  // loop itself cannot go on (poll/signalfd failures).
  [[nodiscard]] Status run();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Guest pids of every descendant of the calling process (the container's
// processes when the caller is the agent), ascending.
[[nodiscard]] std::vector<int> descendant_pids();
// `roots` that are alive and every descendant of them, ascending.
[[nodiscard]] std::vector<int> descendant_pids_of(const std::set<int>& roots);

}  // namespace runvm::agent
