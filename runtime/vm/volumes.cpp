#include "runtime/vm/volumes.h"

#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>

namespace runvm::runtime::vm {

namespace {

bool is_bind(const nlohmann::json& m) {
  if (m.value("type", "") == "bind") return true;
  if (m.contains("options") && m["options"].is_array()) {
    for (const auto& o : m["options"])
      if (o.is_string() && (o == "bind" || o == "rbind")) return true;
  }
  return false;
}

}  // namespace

Result<std::vector<Volume>> share_bind_mounts(nlohmann::json& config,
                                              const std::string& bundle_dir) {
  std::vector<Volume> volumes;
  if (!config.contains("mounts") || !config["mounts"].is_array()) return volumes;
  auto& mounts = config["mounts"];
  for (size_t i = 0; i < mounts.size(); ++i) {
    auto& m = mounts[i];
    if (!m.is_object() || !is_bind(m)) continue;
    const std::string where = "mounts[" + std::to_string(i) + "].source";
    if (!m.contains("source") || !m["source"].is_string() || m["source"].get<std::string>().empty())
      return Error(where + ": a bind mount needs a source", EINVAL);
    std::string source = m["source"];
    if (source[0] != '/') source = bundle_dir + "/" + source;
    char real[PATH_MAX];
    if (!::realpath(source.c_str(), real)) {
      return Error(where + " \"" + source + "\": " + std::strerror(errno), errno);
    }
    struct stat st;
    if (::stat(real, &st) != 0) return Error::from_errno(where + " \"" + source + "\"");
    if (!S_ISDIR(st.st_mode)) {
      return Error(where + " \"" + source +
                       "\": only directories can be bind-mounted into the microVM (files and "
                       "devices are not supported yet)",
                   ENOTSUP);
    }
    Volume v{"runvm-vol" + std::to_string(volumes.size()), real, false};
    nlohmann::json options = nlohmann::json::array();
    if (m.contains("options") && m["options"].is_array()) {
      for (const auto& o : m["options"]) {
        if (o == "bind" || o == "rbind") continue;
        if (o == "ro") v.readonly = true;
        options.push_back(o);
      }
    }
    m["type"] = "virtiofs";
    m["source"] = v.tag;
    m["options"] = options;
    volumes.push_back(std::move(v));
  }
  return volumes;
}

}  // namespace runvm::runtime::vm
