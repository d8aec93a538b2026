// A container's state (runtime-spec runtime.md "State") and the state.json file
// runvm keeps for it under --root/<id>/.
//
// state.json holds the spec's fields at the top level and runvm's own
// bookkeeping under the "runvm" key:
//   {"ociVersion":"1.2.0","id":"abc","status":"created","pid":4242,
//    "bundle":"/b","annotations":{...},
//    "runvm":{"created":"2026-...Z","owner":"","rootfs":"/b/rootfs","pidStartTime":123,
//             "controlSocket":"...","vsockSocket":"...","configPath":"...","extra":{}}}
// "annotations" is omitted when empty, "runvm" members when empty/zero.
// Tools that only know the spec ignore "runvm".
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "base/result.h"

namespace runvm::oci {

// kPaused is runc's extra status (the runtime-spec lists the other four).
enum class ContainerStatus { kCreating, kCreated, kRunning, kStopped, kPaused };

// "creating" | "created" | "running" | "stopped" | "paused".
[[nodiscard]] std::string_view to_string(ContainerStatus s);
[[nodiscard]] std::optional<ContainerStatus> parse_status(std::string_view s);

// runvm-private fields; not part of the runtime-spec state.
struct RunvmState {
  std::string created;          // RFC 3339 UTC with nanoseconds, as runc prints it
  std::string owner;            // user name of the creator ("" = root), as runc's `state`
  std::string rootfs;           // absolute path of the rootfs on the host
  uint64_t pid_start_time = 0;  // field 22 of /proc/<pid>/stat, detects pid reuse
  std::string control_socket;   // VMM control socket path
  std::string vsock_socket;     // host side of the guest's vsock
  std::string config_path;      // absolute path of the bundle's config.json
  // The container's id in its VM's agent when it is a pod member (runtime/pod), else "".
  std::string agent_container;
  // Anything else the runtime wants to keep (must be a JSON object or null).
  nlohmann::json extra;

  bool operator==(const RunvmState&) const = default;
};

struct State {
  std::string ociVersion;
  std::string id;
  ContainerStatus status = ContainerStatus::kCreating;
  int pid = 0;         // the VMM's pid; 0 when there is no process (always written, as runc does)
  std::string bundle;  // absolute path
  std::map<std::string, std::string> annotations;
  RunvmState runvm;

  bool operator==(const State&) const = default;
};

// include_private = false gives exactly the runtime-spec document (no "runvm" key).
[[nodiscard]] nlohmann::json to_json(const State& state, bool include_private = true);
// Errors name the JSON path like parse_config: "status: unknown status \"bogus\"".
[[nodiscard]] Result<State> state_from_json(const nlohmann::json& doc);
[[nodiscard]] Result<State> parse_state(std::string_view text);

// Writes state.json atomically: a temp file in the same directory, fsync, rename
// over `path`, fsync of the directory. Readers see the old or the new file, never
// a partial one; no temp file survives a failure. File mode 0600.
[[nodiscard]] Status write_state_atomic(const std::string& path, const State& state);
// Error.err is ENOENT when the file does not exist (the container is unknown).
[[nodiscard]] Result<State> read_state(const std::string& path);

}  // namespace runvm::oci
