// process.oomScoreAdj on the host: the supervisor sets its own oom_score_adj before it
// starts the VMM, which inherits it. The VMM holds the container's memory (guest RAM),
// so the host's OOM killer then weighs it as runc's container init would be weighed.
// Inside the guest, guest-init applies the same value to the container's process.
#pragma once

#include "base/result.h"

namespace runvm::runtime::vm {

inline constexpr int kOomScoreAdjMin = -1000;
inline constexpr int kOomScoreAdjMax = 1000;

// Writes /proc/self/oom_score_adj. Lowering it needs CAP_SYS_RESOURCE: EACCES then,
// with the value named.
[[nodiscard]] Status apply_oom_score_adj(int value);

}  // namespace runvm::runtime::vm
