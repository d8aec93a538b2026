// The state documents runvm prints, shaped as runc prints them (runc's
// containerState): `runvm state <id>` and each entry of `runvm list --format json`.
//   {"ociVersion","id","pid","status","bundle","rootfs","created","owner","annotations"?}
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "oci/state.h"

namespace runvm::runtime {

// `owner` is given by the caller: `state` prints the recorded owner, `list`
// the user owning the state directory (as runc does). "annotations" only when
// there are any. Keys keep runc's order.
[[nodiscard]] nlohmann::ordered_json state_document(const oci::State& state,
                                                    const std::string& owner);

}  // namespace runvm::runtime
