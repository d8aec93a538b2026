// Translation of the OCI seccomp profile (linux.seccomp) to a libseccomp filter.
#pragma once

#include <seccomp.h>

#include "base/result.h"
#include "oci/spec.h"

namespace runvm::guest {

// Builds the filter: default action (with defaultErrnoRet), architectures,
// flags, and one rule per syscall name (arguments compared with the OCI
// operators; several comparisons on the same argument become separate rules, as
// in runc). Syscall names libseccomp does not know are skipped; rules whose
// action equals the default are redundant and skipped. SCMP_ACT_NOTIFY is not
// supported (no listener in the guest). The caller owns the context
// (seccomp_release). The filter does not set no_new_privs itself.
[[nodiscard]] Result<scmp_filter_ctx> build_seccomp_filter(const oci::Seccomp& profile);

// Builds and loads the filter into the calling thread/process. Needs
// no_new_privs or CAP_SYS_ADMIN.
[[nodiscard]] Status load_seccomp(const oci::Seccomp& profile);

}  // namespace runvm::guest
