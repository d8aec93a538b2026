#include "runtime/bundle.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>

#include "base/file_io.h"
#include "oci/parse.h"
#include "oci/state.h"
#include "oci/validate.h"

namespace runvm::runtime {

namespace {

Result<std::string> absolute_dir(std::string_view dir, std::string_view what) {
  std::string path = dir.empty() ? std::string(".") : std::string(dir);
  char resolved[PATH_MAX];
  if (::realpath(path.c_str(), resolved) == nullptr) {
    return Error::from_errno(std::string(what) + " \"" + path + "\"");
  }
  struct stat st {};
  if (::stat(resolved, &st) != 0) return Error::from_errno(std::string(what) + " \"" + path + "\"");
  if (!S_ISDIR(st.st_mode)) {
    return Error::from_errno(std::string(what) + " \"" + path + "\"", ENOTDIR);
  }
  return std::string(resolved);
}

// All violations on one line: log lines (and containerd's error reports) are one line each.
std::string join_violations(const std::vector<oci::Violation>& violations) {
  std::string out;
  for (const auto& v : violations) {
    if (!out.empty()) out += "; ";
    out += oci::to_string(v);
  }
  return out;
}

}  // namespace

Result<Bundle> load_bundle(std::string_view dir) {
  Bundle b;
  auto path = absolute_dir(dir, "bundle");
  if (!path) return path.error();
  b.path = *path;
  b.config_path = b.path + "/config.json";

  auto text = read_file(b.config_path);
  if (!text) {
    if (text.error().err == ENOENT) {
      return Error("JSON specification file config.json not found", ENOENT)
          .wrap("bundle \"" + b.path + "\"");
    }
    return text.error();
  }
  auto spec = oci::parse_config(*text);
  if (!spec) return spec.error().wrap("config.json");
  auto violations = oci::validate(*spec);
  if (!violations.empty()) return Error(join_violations(violations), EINVAL).wrap("config.json");
  b.spec = std::move(*spec);

  // validate() requires root.path; it may be relative to the bundle.
  std::string root = b.spec.root ? b.spec.root->path : "rootfs";
  if (root.empty() || root.front() != '/') root = b.path + "/" + root;
  auto rootfs = absolute_dir(root, "rootfs");
  if (!rootfs) return rootfs.error();
  b.rootfs = *rootfs;
  return b;
}

}  // namespace runvm::runtime
