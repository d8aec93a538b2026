// runvm: the runc-compatible command line. Everything lives in runvm_runtime.
#include <cstring>

#include "runtime/cli.h"
#include "runtime/vm/supervisor.h"

int main(int argc, char** argv) {
  // The hidden process create leaves behind for each container (runtime/vm).
  if (argc > 1 && std::strcmp(argv[1], runvm::runtime::vm::kSuperviseCommand) == 0)
    return runvm::runtime::vm::supervise_main(argc, argv);
  return runvm::runtime::run_cli(argc, argv);
}
