// The five OCI capability sets, resolved to numbers and applied with libcap.
#pragma once

#include <vector>

#include "base/result.h"
#include "oci/spec.h"

namespace runvm::guest {

struct CapSets {
  std::vector<int> bounding, effective, inheritable, permitted, ambient;
};

// Names to numbers. An absent set is empty (as in runc). An unknown name is an
// error naming it ("capabilities.bounding: unknown capability \"CAP_FOO\"");
// capabilities newer than the running kernel (above cap_last_cap) are skipped.
[[nodiscard]] Result<CapSets> resolve_capabilities(const oci::Capabilities& caps);

// Drops every capability not in `bounding` from the bounding set. Needs CAP_SETPCAP.
[[nodiscard]] Status apply_bounding_set(const CapSets& s);
// Sets effective, permitted and inheritable exactly, then the ambient set.
// Call after the user switch (which clears the effective set).
[[nodiscard]] Status apply_process_capabilities(const CapSets& s);

}  // namespace runvm::guest
