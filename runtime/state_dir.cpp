#include "runtime/state_dir.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <system_error>

#include "base/remove_tree.h"
#include "runtime/container_id.h"
#include "runtime/process_liveness.h"

namespace runvm::runtime {

namespace {

constexpr std::string_view kCreateLockName = "@create.lock";  // '@' never appears in an id
constexpr std::string_view kCreatorPid = "creator_pid";
constexpr std::string_view kCreatorStartTime = "creator_start_time";

Error not_exist() {
  return Error(std::string(kNotExistMessage), ENOENT);
}

bool path_exists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

Status mkdir_p(const std::string& path, mode_t mode) {
  std::error_code ec;
  bool created = std::filesystem::create_directories(path, ec);
  if (ec) return Error::from_errno("create directory " + path, ec.value());
  // Only a directory we made gets our mode; an existing --root is left as it is.
  if (created && ::chmod(path.c_str(), mode) != 0) return Error::from_errno("chmod " + path);
  return {};
}

}  // namespace

oci::ContainerStatus live_status(const oci::State& state) {
  using oci::ContainerStatus;
  switch (state.status) {
    case ContainerStatus::kStopped:
      return ContainerStatus::kStopped;
    case ContainerStatus::kCreating: {
      const auto& extra = state.runvm.extra;
      if (!extra.is_object() || !extra.contains(kCreatorPid)) return ContainerStatus::kStopped;
      int pid = extra.value(kCreatorPid, 0);
      uint64_t start = extra.value(kCreatorStartTime, uint64_t{0});
      return process_alive(pid, start) ? ContainerStatus::kCreating : ContainerStatus::kStopped;
    }
    default:
      if (state.pid <= 0 || !process_alive(state.pid, state.runvm.pid_start_time)) {
        return ContainerStatus::kStopped;
      }
      return state.status;
  }
}

StateDir::StateDir(std::string root) : root_(std::move(root)) {
  while (root_.size() > 1 && root_.back() == '/') root_.pop_back();
}

std::string StateDir::container_dir(std::string_view id) const {
  return root_ + "/" + std::string(id);
}

std::string StateDir::state_path(std::string_view id) const {
  return container_dir(id) + "/state.json";
}

std::string StateDir::lock_path(std::string_view id) const {
  return container_dir(id) + "/.lock";
}

Result<FileLock> StateDir::create(const oci::State& initial) const {
  const std::string& id = initial.id;
  if (auto ok = validate_container_id(id); !ok) return ok.error();
  if (auto ok = mkdir_p(root_, 0700); !ok) return ok.error();

  // The root-level lock makes "check, reclaim, mkdir, lock, write state" one step
  // for every creator; readers never take it.
  auto create_lock = FileLock::acquire(root_ + "/" + std::string(kCreateLockName));
  if (!create_lock) return create_lock.error();

  const std::string dir = container_dir(id);
  if (path_exists(dir)) {
    if (path_exists(state_path(id))) return Error(std::string(kExistsMessage), EEXIST);
    // Under the create lock a directory without state.json is a dead creator's leftover.
    if (auto ok = remove_tree(dir); !ok) return ok.error().wrap("reclaim " + dir);
  }
  if (::mkdir(dir.c_str(), 0711) != 0) {
    if (errno == EEXIST) return Error(std::string(kExistsMessage), EEXIST);
    return Error::from_errno("create directory " + dir);
  }
  auto lock = FileLock::acquire(lock_path(id));
  if (!lock) {
    (void)remove_tree(dir);
    return lock.error();
  }

  oci::State state = initial;
  if (!state.runvm.extra.is_object()) state.runvm.extra = nlohmann::json::object();
  state.runvm.extra[kCreatorPid] = static_cast<int>(::getpid());
  state.runvm.extra[kCreatorStartTime] = process_start_time(::getpid()).value_or(0);
  if (auto ok = save(state); !ok) {
    (void)remove_tree(dir);
    return ok.error();
  }
  return lock;
}

Result<FileLock> StateDir::lock(std::string_view id) const {
  if (auto ok = validate_container_id(id); !ok) return ok.error();
  const std::string path = lock_path(id);
  for (;;) {
    if (!path_exists(state_path(id))) return not_exist();
    auto lock = FileLock::acquire(path);
    if (!lock) {
      if (lock.error().err == ENOENT) return not_exist();
      return lock.error();
    }
    // The container may have been deleted (and maybe created again) while we
    // waited: our lock only counts if it is still on the file at `path`.
    if (!lock->still_linked()) continue;
    if (!path_exists(state_path(id))) return not_exist();
    return lock;
  }
}

Result<oci::State> StateDir::load(std::string_view id) const {
  if (auto ok = validate_container_id(id); !ok) return ok.error();
  auto state = oci::read_state(state_path(id));
  if (!state) {
    if (state.error().err == ENOENT || state.error().err == ENOTDIR) return not_exist();
    return state.error();
  }
  state->status = live_status(*state);
  if (state->status == oci::ContainerStatus::kStopped) state->pid = 0;
  return state;
}

Status StateDir::save(const oci::State& state) const {
  if (auto ok = validate_container_id(state.id); !ok) return ok.error();
  return oci::write_state_atomic(state_path(state.id), state);
}

Status StateDir::remove(std::string_view id) const {
  if (auto ok = validate_container_id(id); !ok) return ok.error();
  return remove_tree(container_dir(id));
}

Result<std::vector<std::string>> StateDir::list() const {
  std::vector<std::string> ids;
  DIR* d = ::opendir(root_.c_str());
  if (d == nullptr) {
    if (errno == ENOENT) return ids;
    return Error::from_errno("open state directory " + root_);
  }
  while (struct dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (!is_valid_container_id(name)) continue;
    if (path_exists(state_path(name))) ids.push_back(std::move(name));
  }
  ::closedir(d);
  std::sort(ids.begin(), ids.end());
  return ids;
}

std::optional<uid_t> StateDir::owner(std::string_view id) const {
  struct stat st {};
  if (::stat(container_dir(id).c_str(), &st) != 0) return std::nullopt;
  return st.st_uid;
}

}  // namespace runvm::runtime
