#include "runtime/version.h"

#include <seccomp.h>

#include "oci/spec.h"

#ifndef RUNVM_VERSION
#error "RUNVM_VERSION must be defined by the build"
#endif
#ifndef RUNVM_COMMIT
#error "RUNVM_COMMIT must be defined by the build"
#endif

namespace runvm::runtime {

std::string libseccomp_version() {
  const scmp_version* v = seccomp_version();
  if (v == nullptr) return "unknown";
  return std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->micro);
}

std::string version_text() {
  return std::string("runvm version ") + RUNVM_VERSION + "\ncommit: " + RUNVM_COMMIT +
         "\nspec: " + oci::kSpecVersion + "\nlibseccomp: " + libseccomp_version() + "\n";
}

}  // namespace runvm::runtime
