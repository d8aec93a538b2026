// Loading an OCI bundle for `create`/`run`: the directory, its config.json
// (parsed and validated) and its rootfs. Nothing is started or written.
#pragma once

#include <string>
#include <string_view>

#include "base/result.h"
#include "oci/spec.h"

namespace runvm::runtime {

struct Bundle {
  std::string path;         // absolute, as recorded in state.json
  std::string config_path;  // <path>/config.json
  std::string rootfs;       // absolute root.path
  oci::Spec spec;           // valid (oci::validate found nothing)
};

// Loads the bundle at `dir` ("" = the current directory). Errors, each naming
// the failing item:
//   bundle "/x": no such file or directory          (err = errno)
//   bundle "/b": JSON specification file config.json not found  (runc's words, ENOENT)
//   config.json: <parse error>
//   config.json: process.args: must contain at least one element[; <next violation>...]
//   rootfs "/b/rootfs": no such file or directory
[[nodiscard]] Result<Bundle> load_bundle(std::string_view dir);

}  // namespace runvm::runtime
