// The state directory under --root: one directory per container holding
// state.json (written atomically) and .lock (flock serialising operations on
// that container):
//   <root>/@create.lock     taken only while a container directory is created
//   <root>/<id>/state.json
//   <root>/<id>/.lock
// Later issues add the VMM's control and vsock sockets beside state.json.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "oci/state.h"
#include "runtime/file_lock.h"

namespace runvm::runtime {

// runc's wording, so tools matching on it (containerd) keep working.
inline constexpr std::string_view kNotExistMessage = "container does not exist";
inline constexpr std::string_view kExistsMessage = "container with given ID already exists";

// The status a recorded container really has now. A container whose process
// (the VMM; for "creating", the runvm process creating it) is gone or was
// replaced by another process with the same pid is stopped.
[[nodiscard]] oci::ContainerStatus live_status(const oci::State& state);

class StateDir {
 public:
  explicit StateDir(std::string root);

  const std::string& root() const { return root_; }
  // Paths; `id` must be valid (validate_container_id) before these are used.
  std::string container_dir(std::string_view id) const;
  std::string state_path(std::string_view id) const;
  std::string lock_path(std::string_view id) const;

  // Creates <root>/<id>/ and writes `initial` (its id names the container) as
  // state.json, stamped with the calling process as creator so a creator that
  // dies leaves a "stopped" container rather than a stuck "creating" one.
  // Returns the container's lock, held. Of several concurrent calls for one id
  // (threads or processes) exactly one succeeds; the others fail with
  // kExistsMessage and err = EEXIST. A directory without state.json (its
  // creator died before writing it) is reclaimed. Creates <root> (0700) if needed.
  [[nodiscard]] Result<FileLock> create(const oci::State& initial) const;

  // Blocks until the container's lock is held. Fails with kNotExistMessage and
  // err = ENOENT when there is no such container (also when it was deleted while
  // this call waited for the lock).
  [[nodiscard]] Result<FileLock> lock(std::string_view id) const;

  // Reads state.json; status and pid are corrected by live_status() (pid 0 when
  // stopped). The file is not rewritten. ENOENT + kNotExistMessage when unknown.
  [[nodiscard]] Result<oci::State> load(std::string_view id) const;

  // Writes state.json atomically. The caller holds the container's lock.
  [[nodiscard]] Status save(const oci::State& state) const;

  // Removes <root>/<id>/ and everything in it. The caller holds the lock.
  [[nodiscard]] Status remove(std::string_view id) const;

  // Ids of all containers that have a state.json, sorted. A missing root is empty.
  [[nodiscard]] Result<std::vector<std::string>> list() const;

  // Owner of the container's directory (runc's `list` shows it as OWNER).
  [[nodiscard]] std::optional<uid_t> owner(std::string_view id) const;

 private:
  std::string root_;
};

}  // namespace runvm::runtime
