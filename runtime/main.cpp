// runvm: the runc-compatible command line. Everything lives in runvm_runtime.
#include "runtime/cli.h"

int main(int argc, char** argv) {
  return runvm::runtime::run_cli(argc, argv);
}
