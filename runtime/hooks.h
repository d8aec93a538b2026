// OCI lifecycle hooks, run on the host as the runtime-spec says: each hook gets
// the container's state document on stdin, its own args/env, and a timeout.
// Points: prestart + createRuntime + createContainer at create (the container
// process exists and is held in the guest), startContainer at start before the
// process is released, poststart after it, poststop at delete. runvm runs the
// in-container points (createContainer, startContainer) on the host too: a host
// binary cannot run inside the guest, as with Kata.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "oci/spec.h"
#include "oci/state.h"

namespace runvm::runtime {

// Runs `hooks` in order and stops at the first failure (non-zero exit, signal,
// timeout or exec error), naming the point, index and path with the hook's
// output tail: `createRuntime hook 0 (/bin/false): exited with status 1`.
[[nodiscard]] Status run_hooks(std::string_view point, const std::vector<oci::Hook>& hooks,
                               const oci::State& state);

// The hooks of `spec` for a point ("prestart", "createRuntime", ...); none if unset.
[[nodiscard]] std::vector<oci::Hook> hooks_for(const oci::Spec& spec, std::string_view point);

// poststop after a container is gone (delete, or run without --keep): the
// bundle's hooks with status "stopped"; failures are printed as warnings, as runc.
void run_poststop_hooks(oci::State state);

}  // namespace runvm::runtime
