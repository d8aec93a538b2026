#include "runtime/container_id.h"

#include <string>

#include <gtest/gtest.h>

namespace runvm::runtime {
namespace {

TEST(ContainerId, AcceptsRuncCharacterSet) {
  for (const char* id :
       {"abc", "A9", "a.b", "a_b", "a-b", "a+b", "a,b", "...", ".hidden", "0123456789"}) {
    EXPECT_TRUE(is_valid_container_id(id)) << id;
    EXPECT_TRUE(validate_container_id(id).ok()) << id;
  }
}

TEST(ContainerId, RejectsPathsAndOtherCharacters) {
  for (const char* id : {"", ".", "..", "a/b", "/abs", "a b", "a:b", "a@b", "a*b", "tab\t",
                         "new\nline", "caf\xc3\xa9", "a\\b", "a~"}) {
    EXPECT_FALSE(is_valid_container_id(id)) << id;
    auto st = validate_container_id(id);
    ASSERT_FALSE(st.ok()) << id;
    EXPECT_EQ(st.error().message, "invalid container ID format");
    EXPECT_EQ(st.error().err, EINVAL);
  }
}

TEST(ContainerId, LengthLimit) {
  EXPECT_TRUE(is_valid_container_id(std::string(kMaxContainerIdLength, 'a')));
  EXPECT_FALSE(is_valid_container_id(std::string(kMaxContainerIdLength + 1, 'a')));
}

}  // namespace
}  // namespace runvm::runtime
