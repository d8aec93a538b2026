// runvm-vmm's command line (CLI11), validated before anything is created.
#pragma once

#include <optional>

#include "vmm/vm_config.h"

namespace runvm::vmm {

struct ParsedFlags {
  std::optional<VmConfig> config;  // set when the VMM should run
  int exit_code = 0;               // otherwise: 0 for --help, 1 for errors (already printed)
};

ParsedFlags parse_flags(int argc, const char* const* argv);

}  // namespace runvm::vmm
