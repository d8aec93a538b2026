// Plain-text tables as runc prints them (Go text/tabwriter with minwidth 12,
// padding 3, space fill): every column except the last is padded to
// max(widest cell + 3, 12); the last column is not padded.
#pragma once

#include <string>
#include <vector>

namespace runvm::runtime {

using TableRow = std::vector<std::string>;

// One line per row, each ending in '\n'. Rows may have different lengths.
[[nodiscard]] std::string format_table(const std::vector<TableRow>& rows);

}  // namespace runvm::runtime
