// The host side of the agent protocol over a connected stream fd (for the
// runtime: the VMM's vsock unix socket after "CONNECT 1024\n" -> "OK ..."; for
// tests: a socketpair end).
//
// Synchronous: each request call sends the request and reads frames until its
// response arrives; stdio data and exit events read meanwhile are queued and
// returned by next_event(). Not thread-safe; one Client per connection.
// The guest is not trusted: a frame must complete within kFrameCompletionMs of
// its first byte, the queue is bounded, credit comes only for known handles;
// any breach is an error after which the connection is not used again.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/protocol.h"
#include "agent/stats.h"
#include "base/result.h"

namespace runvm::agent {

using Event = std::variant<DataMsg, ExitEvent>;

class Client {
 public:
  // Does not take ownership of fd; it must stay open while the Client is used.
  explicit Client(int fd) : fd_(fd) {}

  // Version handshake; must be the first call.
  [[nodiscard]] Result<HelloReply> hello();

  // Creates the container from its config.json document; its process is held
  // until start(). With stdin=false the process's stdin is /dev/null.
  [[nodiscard]] Result<ProcessInfo> create(const std::string& container_id,
                                           const nlohmann::json& config, bool stdin = false);
  // A further container of a pod VM, its rootfs at `rootfs` in the guest. Once it is
  // created, later requests of this client are addressed to it.
  [[nodiscard]] Result<ProcessInfo> create_in_pod(const std::string& container_id,
                                                  const nlohmann::json& config,
                                                  const std::string& rootfs, bool stdin = false);
  // Addresses later requests to this container of the VM (empty: the VM's first).
  void address(std::string container_id) { container_id_ = std::move(container_id); }
  // Removes the addressed pod member from the guest (agent/PROTOCOL.md `destroy`).
  [[nodiscard]] Status destroy();
  // A VM started from a snapshot: reseeds the guest's RNG, sets its clock and lets it
  // mount what the template left (agent/PROTOCOL.md `restored`). Seed and time are the
  // host's (getrandom, CLOCK_REALTIME).
  [[nodiscard]] Status restored();
  [[nodiscard]] Status start();
  // Starts another process (OCI process object) in the running container.
  [[nodiscard]] Result<ProcessInfo> exec(const std::string& process_id,
                                         const nlohmann::json& process, bool stdin = false);
  [[nodiscard]] Status signal(const std::string& process_id, int sig);
  [[nodiscard]] Status signal_all(int sig);
  [[nodiscard]] Status close_stdin(const std::string& process_id);
  [[nodiscard]] Status resize(const std::string& process_id, uint16_t rows, uint16_t cols);
  [[nodiscard]] Result<std::vector<int>> ps();
  // The container's cgroup statistics, validated (agent/stats.h).
  [[nodiscard]] Result<ContainerStats> stats();
  // New limits: an OCI linux.resources object.
  [[nodiscard]] Status update(const nlohmann::json& resources);
  // The container's network, configured in the guest before start.
  [[nodiscard]] Status configure_network(const NetworkConfig& network);
  // Blocks until the process exits (or returns at once if it has).
  [[nodiscard]] Result<ExitStatus> wait(const std::string& process_id);

  // Sends stdin bytes, in chunks, waiting for credit from the agent as needed
  // (reading and queueing other frames meanwhile).
  [[nodiscard]] Status write_stdin(uint32_t handle, std::string_view bytes);
  // Bytes of stdin that can be sent now without waiting.
  uint32_t stdin_credit(uint32_t handle) const;

  // Next queued or incoming data/exit event. timeout_ms < 0 waits forever;
  // on timeout returns an Error with err == ETIMEDOUT.
  [[nodiscard]] Result<Event> next_event(int timeout_ms = -1);

  int fd() const { return fd_; }

  // A request other than wait fails with ETIMEDOUT when the agent has not answered
  // within `ms` (-1, the default: no limit). The connection is not usable after that.
  void set_call_timeout(int ms) { call_timeout_ms_ = ms; }
  // How long a frame may take to complete after its first byte (tests).
  void set_frame_completion(int ms) { frame_completion_ms_ = ms; }

 private:
  [[nodiscard]] Result<nlohmann::json> call(RequestBody body);
  // Reads one frame and queues/records it; a Response is returned in *resp.
  [[nodiscard]] Status read_one(std::optional<Response>* resp);

  // What a guest can make the host hold between two next_event() calls.
  static constexpr size_t kMaxQueuedBytes = 64u << 20;
  static constexpr size_t kMaxQueuedEvents = 1u << 16;
  [[nodiscard]] Status queue(Event e, size_t bytes);

  int fd_;
  std::string container_id_;
  uint64_t next_id_ = 1;
  std::deque<Event> events_;
  size_t queued_bytes_ = 0;
  std::map<uint32_t, uint32_t> credit_;  // handle -> stdin bytes allowed
  int call_timeout_ms_ = -1;
  int frame_completion_ms_ = kFrameCompletionMs;
};

}  // namespace runvm::agent
