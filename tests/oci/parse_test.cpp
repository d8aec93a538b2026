// Parsing behaviour that is not an error: unknown fields, null, absent vs empty.
#include <gtest/gtest.h>

#include "base/result.h"
#include "oci/parse.h"
#include "oci/validate.h"

namespace runvm::oci {
namespace {

constexpr const char* kMinimal = R"({
  "ociVersion": "1.2.0",
  "root": {"path": "rootfs"},
  "process": {"args": ["sh"], "cwd": "/", "user": {"uid": 1, "gid": 2}}
})";

TEST(Parse, Minimal) {
  auto s = parse_config(kMinimal);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->ociVersion, "1.2.0");
  ASSERT_TRUE(s->root.has_value());
  EXPECT_EQ(s->root->path, "rootfs");
  EXPECT_FALSE(s->root->readonly.has_value());
  EXPECT_EQ(s->process->user.uid, 1u);
  EXPECT_EQ(s->process->user.gid, 2u);
  EXPECT_FALSE(s->mounts.has_value());
  EXPECT_FALSE(s->linux.has_value());
  EXPECT_TRUE(validate(*s).empty());
}

TEST(Parse, UnknownFieldsAreIgnored) {
  auto s = parse_config(R"({
    "ociVersion": "1.2.0", "root": {"path": "r", "futureField": [1, {"x": null}]},
    "process": {"args": ["sh"], "cwd": "/", "user": {"uid": 0, "gid": 0}, "someday": 3},
    "windows": {"layerFolders": ["C:\\x"]}, "solaris": 7, "x-vendor": {"a": "b"}
  })");
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_TRUE(validate(*s).empty());
  auto j = to_json(*s);
  EXPECT_FALSE(j.contains("windows"));
  EXPECT_FALSE(j["root"].contains("futureField"));
}

TEST(Parse, AnnotationsAreKept) {
  auto s = parse_config(R"({"ociVersion": "1.2.0", "root": {"path": "r"},
    "annotations": {"org.opencontainers.image.ref.name": "busybox", "io.runvm.vm.vcpus": "2",
                    "com.example.empty": ""}})");
  ASSERT_TRUE(s.ok()) << s.error().message;
  ASSERT_TRUE(s->annotations.has_value());
  EXPECT_EQ(s->annotations->size(), 3u);
  EXPECT_EQ(s->annotations->at("io.runvm.vm.vcpus"), "2");
  EXPECT_EQ(s->annotations->at("com.example.empty"), "");
  EXPECT_EQ(to_json(*s)["annotations"]["org.opencontainers.image.ref.name"], "busybox");
}

TEST(Parse, NullMeansAbsent) {
  auto s = parse_config(R"({"ociVersion": "1.2.0", "root": {"path": "r", "readonly": null},
    "process": null, "mounts": null, "linux": {"namespaces": null, "seccomp": null}})");
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_FALSE(s->root->readonly.has_value());
  EXPECT_FALSE(s->process.has_value());
  EXPECT_FALSE(s->mounts.has_value());
  ASSERT_TRUE(s->linux.has_value());
  EXPECT_FALSE(s->linux->namespaces.has_value());
}

TEST(Parse, EmptyListIsNotAbsent) {
  auto s = parse_config(R"({"ociVersion": "1.2.0", "root": {"path": "r"},
    "mounts": [{"destination": "/a", "options": []}, {"destination": "/b"}]})");
  ASSERT_TRUE(s.ok()) << s.error().message;
  ASSERT_TRUE((*s->mounts)[0].options.has_value());
  EXPECT_TRUE((*s->mounts)[0].options->empty());
  EXPECT_FALSE((*s->mounts)[1].options.has_value());
  auto j = to_json(*s);
  EXPECT_TRUE(j["mounts"][0].contains("options"));
  EXPECT_FALSE(j["mounts"][1].contains("options"));
}

TEST(Parse, IntegerLimits) {
  auto s = parse_config(R"({"ociVersion": "1.2.0", "root": {"path": "r"}, "linux": {
    "resources": {"memory": {"limit": -1, "swap": 9223372036854775807},
                  "cpu": {"shares": 18446744073709551615, "quota": -9223372036854775808}}}})");
  ASSERT_TRUE(s.ok()) << s.error().message;
  const auto& r = *s->linux->resources;
  EXPECT_EQ(*r.memory->limit, -1);
  EXPECT_EQ(*r.memory->swap, INT64_MAX);
  EXPECT_EQ(*r.cpu->shares, UINT64_MAX);
  EXPECT_EQ(*r.cpu->quota, INT64_MIN);
  auto zero = parse_config(R"({"ociVersion": "1.2.0", "process": {"user": {"uid": -0}}})");
  ASSERT_TRUE(zero.ok()) << zero.error().message;
  EXPECT_EQ(zero->process->user.uid, 0u);
  auto big = parse_config(R"({"ociVersion": "1.2.0", "linux": {"resources": {"memory":
    {"limit": 9223372036854775808}}}})");
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.error().message,
            "linux.resources.memory.limit: 9223372036854775808 is out of range for int64");
}

TEST(Parse, ProcessDocumentForExec) {
  auto p = parse_process(R"({"args": ["ls", "-l"], "cwd": "/tmp", "env": ["A=1"],
                             "user": {"uid": 0, "gid": 0}, "terminal": true})");
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(p->args->at(1), "-l");
  EXPECT_TRUE(validate_process(*p).empty());
  auto bad = parse_process(R"({"args": ["ls", 1]})");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message, "args[1]: expected string, got number");
}

TEST(Parse, ConfigFileErrorNamesTheFile) {
  auto s = parse_config_file("/proc/self/cmdline");  // exists, is not JSON
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message.rfind("/proc/self/cmdline: invalid JSON: ", 0), 0u)
      << s.error().message;
}

// ---- Result/Error (base/result.h) ----

Result<int> half(int x) {
  if (x % 2) return Error("odd number " + std::to_string(x), EINVAL);
  return x / 2;
}

Status check(bool ok) {
  if (!ok) return Error::from_errno("check", ENOENT);
  return {};
}

TEST(Result, ValueAndError) {
  auto a = half(4);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(*a, 2);
  auto b = half(3);
  ASSERT_FALSE(b);
  EXPECT_EQ(b.error().message, "odd number 3");
  EXPECT_EQ(b.error().err, EINVAL);
  EXPECT_EQ(b.value_or(-1), -1);
  Error w = b.error().wrap("load config.json").wrap("create abc");
  EXPECT_EQ(w.message, "create abc: load config.json: odd number 3");
  EXPECT_EQ(w.err, EINVAL);
  EXPECT_TRUE(check(true).ok());
  auto c = check(false);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().message, "check: No such file or directory");
  EXPECT_EQ(c.error().err, ENOENT);
  Result<std::string> s = "text";
  EXPECT_EQ(s->size(), 4u);
}

}  // namespace
}  // namespace runvm::oci
