// `runvm --version`: what is running, in runc's layout.
#pragma once

#include <string>

namespace runvm::runtime {

// "runvm version 0.1.0\ncommit: abc1234\nspec: 1.2.0\nlibseccomp: 2.5.4\n"
[[nodiscard]] std::string version_text();
// The libseccomp linked in, "2.5.4".
[[nodiscard]] std::string libseccomp_version();

}  // namespace runvm::runtime
