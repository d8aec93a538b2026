// runvm spec [--bundle DIR] [--rootless]: write a default config.json.
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <string>

#include "base/file_io.h"
#include "oci/default_spec.h"
#include "oci/parse.h"
#include "oci/state.h"
#include "runtime/commands/verbs.h"

namespace runvm::runtime {

namespace {
struct SpecOptions {
  std::string bundle;
  bool rootless = false;
};

Status write_spec(const SpecOptions& opts) {
  std::string dir = opts.bundle.empty() ? "." : opts.bundle;
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) return Error::from_errno("bundle \"" + dir + "\"");
  if (!S_ISDIR(st.st_mode)) return Error::from_errno("bundle \"" + dir + "\"", ENOTDIR);
  const std::string path = dir + "/config.json";
  if (::lstat(path.c_str(), &st) == 0) {
    return Error("File config.json exists. Remove it first", EEXIST);  // runc's wording
  }
  oci::Spec spec =
      opts.rootless ? oci::default_rootless_spec(::geteuid(), ::getegid()) : oci::default_spec();
  return write_file_atomic(path, oci::to_config_text(spec) + "\n", 0644);
}
}  // namespace

Action setup_spec(CLI::App& cmd) {
  auto opts = std::make_shared<SpecOptions>();
  cmd.add_option("-b,--bundle", opts->bundle, "path to the root of the bundle directory");
  cmd.add_flag("--rootless", opts->rootless, "generate a configuration for a rootless container");
  return [opts](CommandContext& /*ctx*/) -> Result<int> {
    if (auto ok = write_spec(*opts); !ok) return ok.error().wrap("spec");
    return 0;
  };
}

}  // namespace runvm::runtime
