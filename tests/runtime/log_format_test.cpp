#include "runtime/log.h"

#include <chrono>
#include <regex>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "runtime/time_format.h"

namespace runvm::runtime {
namespace {

TEST(LogFormat, TextLineQuotesLikeLogrus) {
  EXPECT_EQ(format_log_line(LogFormat::kText, LogLevel::kError, "container does not exist",
                            "2026-11-22T00:09:42Z"),
            "time=\"2026-11-22T00:09:42Z\" level=error msg=\"container does not exist\"\n");
  // Plain words stay unquoted; quotes and newlines are escaped.
  EXPECT_EQ(format_log_line(LogFormat::kText, LogLevel::kDebug, "ok", "t"),
            "time=t level=debug msg=ok\n");
  EXPECT_EQ(format_log_line(LogFormat::kText, LogLevel::kWarning, "a \"b\"\nc", "t"),
            "time=t level=warning msg=\"a \\\"b\\\"\\nc\"\n");
}

TEST(LogFormat, JsonLineHasLevelMsgTime) {
  std::string line = format_log_line(LogFormat::kJson, LogLevel::kError, "bad \"x\"", "T");
  ASSERT_EQ(line.back(), '\n');
  EXPECT_EQ(line, "{\"level\":\"error\",\"msg\":\"bad \\\"x\\\"\",\"time\":\"T\"}\n");
  auto j = nlohmann::json::parse(line);
  EXPECT_EQ(j["msg"], "bad \"x\"");
}

TEST(LogFormat, ParseLogFormat) {
  EXPECT_EQ(*parse_log_format("text"), LogFormat::kText);
  EXPECT_EQ(*parse_log_format("json"), LogFormat::kJson);
  auto bad = parse_log_format("xml");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("xml"), std::string::npos);
}

TEST(TimeFormat, Rfc3339NanoTrimsTrailingZeros) {
  using namespace std::chrono;
  system_clock::time_point t{seconds{1700000000}};
  EXPECT_EQ(rfc3339_nano_utc(t), "2023-11-14T22:13:20Z");
  EXPECT_EQ(rfc3339_nano_utc(t + nanoseconds{123456789}), "2023-11-14T22:13:20.123456789Z");
  EXPECT_EQ(rfc3339_nano_utc(t + milliseconds{500}), "2023-11-14T22:13:20.5Z");
}

TEST(TimeFormat, LocalTimestampIsRfc3339) {
  std::string s = rfc3339_local(std::chrono::system_clock::now());
  EXPECT_TRUE(std::regex_match(s, std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d))")))
      << s;
}

}  // namespace
}  // namespace runvm::runtime
