// Side by side with Debian's runc 1.1: its default spec parses and validates, ours
// equals it, and `runc run` accepts ours on a busybox rootfs.
#include <unistd.h>

#include <filesystem>
#include <set>
#include <string>

#include <gtest/gtest.h>

#include "base/file_io.h"
#include "oci/default_spec.h"
#include "oci/features.h"
#include "oci/parse.h"
#include "oci/state.h"
#include "oci/validate.h"
#include "test_util.h"

namespace runvm::oci {
namespace {

using nlohmann::json;
using testing::find_runc;
using testing::run_shell;
using testing::slurp;
using testing::TempDir;

#define REQUIRE_RUNC(var) \
  auto var = find_runc(); \
  if (!var) GTEST_SKIP() << "runc is not installed (apt-get install runc); skipped"

// Runs `runc spec [flags]` in a fresh directory and returns the config.json text.
std::string runc_spec(const std::string& runc, const std::string& flags) {
  TempDir dir;
  std::string cmd = "cd '" + dir.path() + "' && '" + runc + "' spec " + flags;
  EXPECT_EQ(run_shell(cmd), 0) << cmd;
  return slurp(dir.path() + "/config.json");
}

TEST(Runc, SpecOutputParsesAndValidates) {
  REQUIRE_RUNC(runc);
  for (const char* flags : {"", "--rootless"}) {
    auto spec = parse_config(runc_spec(*runc, flags));
    ASSERT_TRUE(spec.ok()) << flags << ": " << spec.error().message;
    EXPECT_EQ(format_violations(validate(*spec)), "") << flags;
  }
}

TEST(Runc, DefaultSpecEqualsRuncSpec) {
  REQUIRE_RUNC(runc);
  json theirs = json::parse(runc_spec(*runc, ""));
  json ours = to_json(default_spec());
  EXPECT_EQ(ours["ociVersion"], kSpecVersion);
  ours["ociVersion"] = theirs["ociVersion"];  // runc 1.1 says "1.0.2-dev"; we implement 1.2.0
  EXPECT_EQ(ours, theirs) << "diff (runc -> ours): " << json::diff(theirs, ours).dump(1);
  EXPECT_TRUE(validate(default_spec()).empty());
}

TEST(Runc, RootlessSpecEqualsRuncSpecRootless) {
  REQUIRE_RUNC(runc);
  json theirs = json::parse(runc_spec(*runc, "--rootless"));
  json ours = to_json(default_rootless_spec(geteuid(), getegid()));
  ours["ociVersion"] = theirs["ociVersion"];
  EXPECT_EQ(ours, theirs) << "diff (runc -> ours): " << json::diff(theirs, ours).dump(1);
  EXPECT_TRUE(validate(default_rootless_spec(1000, 1000)).empty());
}

TEST(Runc, DefaultSpecTextMatchesRuncByteForByte) {
  REQUIRE_RUNC(runc);
  std::string theirs = runc_spec(*runc, "");
  Spec s = default_spec();
  s.ociVersion = "1.0.2-dev";
  EXPECT_EQ(to_config_text(s), theirs);
}

TEST(Runc, FeaturesHaveRuncsKeys) {
  REQUIRE_RUNC(runc);
  TempDir dir;
  const std::string out = dir.path() + "/features.json";
  ASSERT_EQ(run_shell("'" + *runc + "' features > '" + out + "'"), 0);
  json theirs = json::parse(slurp(out));
  json ours = features();
  for (const auto& [k, v] : theirs.items()) {
    EXPECT_TRUE(ours.contains(k)) << k;
    if (ours.contains(k)) {
      EXPECT_EQ(ours[k].type(), v.type()) << k;
    }
  }
  for (const auto& [k, v] : theirs["linux"].items()) {
    EXPECT_TRUE(ours["linux"].contains(k)) << "linux." << k;
  }
  for (const auto& [k, v] : theirs["linux"]["seccomp"].items()) {
    EXPECT_TRUE(ours["linux"]["seccomp"].contains(k)) << "linux.seccomp." << k;
  }
  // Everything runc knows, we know (our tables are at least as complete).
  auto names = [](const json& a) {
    std::set<std::string> s;
    for (const auto& e : a) s.insert(e.get<std::string>());
    return s;
  };
  for (const char* list : {"capabilities", "namespaces"}) {
    auto ourset = names(ours["linux"][list]);
    for (const auto& n : names(theirs["linux"][list])) EXPECT_TRUE(ourset.count(n)) << n;
  }
  for (const char* list : {"actions", "operators", "archs"}) {
    auto ourset = names(ours["linux"]["seccomp"][list]);
    for (const auto& n : names(theirs["linux"]["seccomp"][list])) EXPECT_TRUE(ourset.count(n)) << n;
  }
  EXPECT_EQ(names(ours["mountOptions"]), names(theirs["mountOptions"]));
}

// Builds a bundle: rootfs with busybox as sh, echo and true; config.json from our default.
class RuncRun : public ::testing::Test {
 protected:
  void SetUp() override {
    runc_ = find_runc();
    if (!runc_) GTEST_SKIP() << "runc is not installed; skipped";
    if (geteuid() != 0) GTEST_SKIP() << "needs root to run containers; skipped";
    if (access("/bin/busybox", X_OK) != 0) GTEST_SKIP() << "/bin/busybox missing (busybox-static)";
    namespace fs = std::filesystem;
    fs::create_directories(dir_.path() + "/rootfs/bin");
    fs::copy_file("/bin/busybox", dir_.path() + "/rootfs/bin/busybox");
    for (const char* n : {"sh", "echo", "true"}) {
      fs::create_symlink("busybox", dir_.path() + "/rootfs/bin/" + n);
    }
  }

  // Runs the bundle with `args`; returns the container's exit status.
  int run(const StringList& args) {
    Spec s = default_spec();
    s.process->args = args;
    s.process->terminal = false;
    EXPECT_TRUE(write_file_atomic(dir_.path() + "/config.json", to_config_text(s), 0644).ok());
    std::string id = "runvm-oci-test-" + std::to_string(getpid()) + "-" + std::to_string(n_++);
    std::string log = dir_.path() + "/runc.log";
    int rc = run_shell("'" + *runc_ + "' --root '" + dir_.path() + "/state' run -b '" +
                       dir_.path() + "' " + id + " </dev/null >'" + log + "' 2>&1");
    output_ = slurp(log);
    return rc;
  }

  TempDir dir_;
  std::optional<std::string> runc_;
  std::string output_;
  int n_ = 0;
};

TEST_F(RuncRun, AcceptsOurDefaultSpec) {
  EXPECT_EQ(run({"true"}), 0) << output_;
  EXPECT_EQ(run({"sh", "-c", "echo hello from $(hostname); exit 3"}), 3) << output_;
  EXPECT_EQ(output_, "hello from runc\n");
}

}  // namespace
}  // namespace runvm::oci
