#include "runtime/table_format.h"

#include <gtest/gtest.h>

namespace runvm::runtime {
namespace {

TEST(TableFormat, PadsColumnsLikeRuncsTabwriter) {
  // Short columns get the 12-character minimum, long ones width + 3; the last
  // column is never padded.
  std::string t = format_table({{"ID", "BUNDLE", "OWNER"}, {"c1", "/a/long/bundle/path", "root"}});
  EXPECT_EQ(t,
            "ID          BUNDLE                OWNER\n"
            "c1          /a/long/bundle/path   root\n");
}

TEST(TableFormat, HeaderOnly) {
  EXPECT_EQ(format_table({{"ID", "PID", "STATUS"}}), "ID          PID         STATUS\n");
}

}  // namespace
}  // namespace runvm::runtime
