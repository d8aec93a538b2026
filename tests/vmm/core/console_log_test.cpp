// The console file stays bounded: a guest that prints without end leaves at most
// two files of the configured size on the host.
#include "vmm/devices/legacy/console_log.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "tests/support/temp_dir.h"
#include "vmm/devices/legacy/serial.h"

namespace runvm::vmm {
namespace {

std::string slurp(const std::string& p) {
  std::stringstream ss;
  ss << std::ifstream(p).rdbuf();
  return ss.str();
}

class ConsoleLogTest : public ::testing::Test {
 protected:
  runvm::testing::TempDir dir_;
  std::string path_ = dir_ / "console.log";
};

TEST_F(ConsoleLogTest, RotatesAtTheLimitKeepingTheNewestOutput) {
  auto log = ConsoleLog::open(path_, 10);
  ASSERT_TRUE(log) << log.error().what();
  // Through the UART, as the guest writes it.
  std::shared_ptr<ConsoleLog> sink = std::move(*log);
  Serial8250 uart(nullptr, [sink](uint8_t b) { sink->write(b); });
  std::string text;
  for (int i = 0; i < 35; ++i) text += static_cast<char>('a' + i % 26);
  for (char c : text)
    uart.bus_write(0, std::span<const uint8_t>(reinterpret_cast<uint8_t*>(&c), 1));
  // 35 bytes at 10 per file: three rotations; the last 5 in the file, the 10 before in .1.
  EXPECT_EQ(slurp(path_), text.substr(30));
  EXPECT_EQ(slurp(path_ + ".1"), text.substr(20, 10));
  EXPECT_FALSE(std::filesystem::exists(path_ + ".2"));
}

TEST_F(ConsoleLogTest, ExistingContentCountsTowardsTheLimit) {
  std::ofstream(path_) << "12345678";
  auto log = ConsoleLog::open(path_, 10);
  ASSERT_TRUE(log) << log.error().what();
  for (char c : std::string("abcd")) (*log)->write(static_cast<uint8_t>(c));
  EXPECT_EQ(slurp(path_ + ".1"), "12345678ab");
  EXPECT_EQ(slurp(path_), "cd");
}

TEST_F(ConsoleLogTest, UnwritablePathIsAnErrorNamingIt) {
  auto log = ConsoleLog::open(dir_ / "no/such/dir/console.log", 10);
  ASSERT_FALSE(log);
  EXPECT_NE(log.error().what().find(dir_ / "no/such/dir/console.log"), std::string::npos);
}

}  // namespace
}  // namespace runvm::vmm
