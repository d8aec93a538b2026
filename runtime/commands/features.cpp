// runvm features: the runtime-spec features document on stdout.
#include <iostream>

#include "oci/features.h"
#include "runtime/commands/verbs.h"
#include "runtime/version.h"

namespace runvm::runtime {

Action setup_features(CLI::App& /*cmd*/) {
  return [](CommandContext& /*ctx*/) -> Result<int> {
    oci::FeaturesOptions opts;
    opts.annotations["io.github.seccomp.libseccomp.version"] = libseccomp_version();
    std::cout << oci::features(opts).dump(4) << "\n";
    return 0;
  };
}

}  // namespace runvm::runtime
