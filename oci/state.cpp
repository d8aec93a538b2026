#include "oci/state.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <vector>

#include "base/file_io.h"
#include "oci/json_io.h"

namespace runvm::oci {
namespace {

using detail::json;

}  // namespace

std::string_view to_string(ContainerStatus s) {
  switch (s) {
    case ContainerStatus::kCreating:
      return "creating";
    case ContainerStatus::kCreated:
      return "created";
    case ContainerStatus::kRunning:
      return "running";
    case ContainerStatus::kStopped:
      return "stopped";
    case ContainerStatus::kPaused:
      return "paused";
  }
  return "unknown";
}

std::optional<ContainerStatus> parse_status(std::string_view s) {
  for (auto st : {ContainerStatus::kCreating, ContainerStatus::kCreated, ContainerStatus::kRunning,
                  ContainerStatus::kStopped, ContainerStatus::kPaused}) {
    if (to_string(st) == s) return st;
  }
  return std::nullopt;
}

nlohmann::json to_json(const State& st, bool include_private) {
  json j = json::object();
  j["ociVersion"] = st.ociVersion;
  j["id"] = st.id;
  j["status"] = std::string(to_string(st.status));
  j["pid"] = st.pid;
  j["bundle"] = st.bundle;
  if (!st.annotations.empty()) j["annotations"] = st.annotations;
  if (include_private) {
    const RunvmState& p = st.runvm;
    json r = json::object();
    if (!p.created.empty()) r["created"] = p.created;
    if (!p.owner.empty()) r["owner"] = p.owner;
    if (!p.rootfs.empty()) r["rootfs"] = p.rootfs;
    if (p.pid_start_time != 0) r["pidStartTime"] = p.pid_start_time;
    if (!p.control_socket.empty()) r["controlSocket"] = p.control_socket;
    if (!p.vsock_socket.empty()) r["vsockSocket"] = p.vsock_socket;
    if (!p.config_path.empty()) r["configPath"] = p.config_path;
    if (!p.agent_container.empty()) r["agentContainer"] = p.agent_container;
    if (p.extra.is_object() && !p.extra.empty()) r["extra"] = p.extra;
    j["runvm"] = std::move(r);
  }
  return j;
}

Result<State> state_from_json(const nlohmann::json& doc) {
  if (!doc.is_object()) {
    return Error(
        "expected a JSON object at the top level, got " + std::string(detail::type_name(doc)),
        EINVAL);
  }
  detail::Reader r;
  State st;
  std::string status;
  r.field(doc, "", "ociVersion", st.ociVersion);
  r.field(doc, "", "id", st.id);
  r.field(doc, "", "status", status);
  r.field(doc, "", "pid", st.pid);
  r.field(doc, "", "bundle", st.bundle);
  r.field(doc, "", "annotations", st.annotations);
  if (!r.err) {
    if (auto s = parse_status(status)) {
      st.status = *s;
    } else {
      r.fail("status", "unknown status " + detail::quote(status));
    }
  }
  if (auto it = doc.find("runvm"); !r.err && it != doc.end() && !it->is_null()) {
    if (r.expect_object(*it, "runvm")) {
      RunvmState& p = st.runvm;
      r.field(*it, "runvm", "created", p.created);
      r.field(*it, "runvm", "owner", p.owner);
      r.field(*it, "runvm", "rootfs", p.rootfs);
      r.field(*it, "runvm", "pidStartTime", p.pid_start_time);
      r.field(*it, "runvm", "controlSocket", p.control_socket);
      r.field(*it, "runvm", "vsockSocket", p.vsock_socket);
      r.field(*it, "runvm", "configPath", p.config_path);
      r.field(*it, "runvm", "agentContainer", p.agent_container);
      if (auto e = it->find("extra"); !r.err && e != it->end() && !e->is_null()) {
        if (r.expect_object(*e, "runvm.extra")) p.extra = *e;
      }
    }
  }
  if (r.err) {
    r.err->err = EINVAL;
    return std::move(*r.err);
  }
  return st;
}

Result<State> parse_state(std::string_view text) {
  auto doc = detail::decode(text);
  if (!doc) return std::move(doc).error();
  return state_from_json(*doc);
}

Status write_state_atomic(const std::string& path, const State& state) {
  std::string text = to_json(state).dump(-1, ' ', false, json::error_handler_t::replace);
  return write_file_atomic(path, text, 0600);
}

Result<State> read_state(const std::string& path) {
  auto text = read_file(path);
  if (!text) return std::move(text).error();
  auto st = parse_state(*text);
  if (!st) return std::move(st).error().wrap(path);
  return st;
}

}  // namespace runvm::oci
