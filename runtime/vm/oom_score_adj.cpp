#include "runtime/vm/oom_score_adj.h"

#include <cerrno>
#include <string>

#include "base/file_io.h"

namespace runvm::runtime::vm {

Status apply_oom_score_adj(int value) {
  const std::string what = "process.oomScoreAdj " + std::to_string(value);
  if (value < kOomScoreAdjMin || value > kOomScoreAdjMax)
    return Error(what + ": must be -1000..1000", EINVAL);
  if (auto ok = write_control_file("/proc/self/oom_score_adj", std::to_string(value)); !ok) {
    if (ok.error().err == EACCES)
      return Error(what + ": lowering the VMM's oom_score_adj needs CAP_SYS_RESOURCE", EACCES);
    return ok.error().wrap(what);
  }
  return {};
}

}  // namespace runvm::runtime::vm
