#include "runtime/table_format.h"

#include <algorithm>

namespace runvm::runtime {

namespace {
constexpr std::size_t kMinWidth = 12;
constexpr std::size_t kPadding = 3;
}  // namespace

std::string format_table(const std::vector<TableRow>& rows) {
  std::vector<std::size_t> widths;
  for (const auto& row : rows) {
    // The last cell of a row ends the line and does not size a column.
    for (std::size_t i = 0; i + 1 < row.size(); ++i) {
      if (widths.size() <= i) widths.resize(i + 1, 0);
      widths[i] = std::max(widths[i], std::max(row[i].size() + kPadding, kMinWidth));
    }
  }
  std::string out;
  for (const auto& row : rows) {
    for (std::size_t i = 0; i < row.size(); ++i) {
      out += row[i];
      if (i + 1 < row.size()) out.append(widths[i] - row[i].size(), ' ');
    }
    out += '\n';
  }
  return out;
}

}  // namespace runvm::runtime
