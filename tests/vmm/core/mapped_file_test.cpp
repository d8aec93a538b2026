#include "vmm/boot/mapped_file.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

namespace runvm::vmm::boot {
namespace {

std::string temp_dir() {
  char tmpl[] = "/tmp/mapped-file-XXXXXX";
  const char* d = ::mkdtemp(tmpl);
  return d ? d : "";
}

TEST(MappedFile, MapsTheWholeFile) {
  std::string dir = temp_dir();
  ASSERT_FALSE(dir.empty());
  std::ofstream(dir + "/k") << "kernel bytes";
  auto f = MappedFile::open(dir + "/k");
  ASSERT_TRUE(f) << f.error().message;
  std::string got(reinterpret_cast<const char*>(f->bytes().data()), f->bytes().size());
  EXPECT_EQ(got, "kernel bytes");
  MappedFile moved = std::move(*f);
  EXPECT_EQ(moved.bytes().size(), 12u);
  EXPECT_TRUE(f->bytes().empty());
  moved.reset();
  EXPECT_TRUE(moved.bytes().empty());
  std::ofstream(dir + "/empty");
  auto e = MappedFile::open(dir + "/empty");
  ASSERT_TRUE(e);
  EXPECT_TRUE(e->bytes().empty());
  std::system(("rm -rf " + dir).c_str());
}

TEST(MappedFile, NamesWhatCannotBeMapped) {
  auto missing = MappedFile::open("/nonexistent/vmlinux");
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("/nonexistent/vmlinux"), std::string::npos);
  auto dir = MappedFile::open("/tmp");
  ASSERT_FALSE(dir);
  EXPECT_NE(dir.error().message.find("not a regular file"), std::string::npos);
}

}  // namespace
}  // namespace runvm::vmm::boot
