// run_hooks(): state on stdin, args/env as given, failures and timeouts named.
#include "runtime/hooks.h"

#include <chrono>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include "tests/runtime/test_support.h"

namespace runvm::runtime {
namespace {

class Hooks : public ::testing::Test {
 protected:
  void SetUp() override {
    state_.ociVersion = "1.2.0";
    state_.id = "hooked";
    state_.status = oci::ContainerStatus::kCreating;
    state_.pid = 4242;
    state_.bundle = "/bundles/hooked";
    state_.runvm.control_socket = "/private/should/not/leak";
  }
  static oci::Hook sh(const std::string& script, std::optional<int> timeout = std::nullopt) {
    oci::Hook h;
    h.path = "/bin/sh";
    h.args = oci::StringList{"sh", "-c", script};
    h.timeout = timeout;
    return h;
  }
  std::string read(const std::string& name) {
    std::ifstream in(dir_ + "/" + name);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }
  testing::TempDir tmp_;
  const std::string dir_ = tmp_.path();
  oci::State state_;
};

TEST_F(Hooks, StateDocumentArrivesOnStdin) {
  auto ok = run_hooks("createRuntime", {sh("cat > " + dir_ + "/state.json")}, state_);
  ASSERT_TRUE(ok) << ok.error().message;
  auto j = nlohmann::json::parse(read("state.json"));
  EXPECT_EQ(j["id"], "hooked");
  EXPECT_EQ(j["status"], "creating");
  EXPECT_EQ(j["pid"], 4242);
  EXPECT_EQ(j["bundle"], "/bundles/hooked");
  EXPECT_FALSE(j.contains("runvm")) << "runvm-private fields must not reach hooks";
}

TEST_F(Hooks, ArgsAndEnvAreTheHooks) {
  // sh -c SCRIPT NAME: NAME is the script's $0.
  oci::Hook h = sh("echo \"$0 $GREETING\" > " + dir_ + "/out");
  h.args->push_back("first");
  h.env = oci::StringList{"GREETING=hello"};
  ASSERT_TRUE(run_hooks("poststart", {h}, state_));
  EXPECT_EQ(read("out"), "first hello\n");
}

TEST_F(Hooks, FirstFailureStopsTheRestAndIsNamed) {
  auto r =
      run_hooks("prestart",
                {sh("true"), sh("echo broken >&2; exit 3"), sh("touch " + dir_ + "/ran")}, state_);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "prestart hook 1 (/bin/sh): exited with status 3: broken");
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/ran"));
}

TEST_F(Hooks, MissingBinaryFails) {
  oci::Hook h;
  h.path = "/nonexistent/hook";
  auto r = run_hooks("poststop", {h}, state_);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message,
            "poststop hook 0 (/nonexistent/hook): exited with status 127: exec: No such file or "
            "directory");
}

TEST_F(Hooks, AHookGoneBeforeItsStateIsWrittenDoesNotKillTheRuntime) {
  // The child can exit before the parent writes the state: that write used to raise SIGPIPE
  // and kill the runtime. Repeated, since which side wins is up to the scheduler.
  oci::Hook missing;
  missing.path = "/nonexistent/hook";
  for (int i = 0; i < 40; ++i) {
    auto r = run_hooks("poststop", {missing}, state_);
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("exited with status 127"), std::string::npos);
    ASSERT_TRUE(run_hooks("poststop", {sh("exec 0<&-; true")}, state_));
  }
}

TEST_F(Hooks, TimeoutKillsTheHook) {
  auto start = std::chrono::steady_clock::now();
  auto r = run_hooks("startContainer", {sh("exec sleep 30", 1)}, state_);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "startContainer hook 0 (/bin/sh): timed out after 1s");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(20));
}

TEST_F(Hooks, HooksForPicksThePoint) {
  oci::Spec spec;
  EXPECT_TRUE(hooks_for(spec, "prestart").empty());
  spec.hooks = oci::Hooks{};
  spec.hooks->poststop = std::vector<oci::Hook>{sh("a"), sh("b")};
  EXPECT_EQ(hooks_for(spec, "poststop").size(), 2u);
  EXPECT_TRUE(hooks_for(spec, "poststart").empty());
  EXPECT_TRUE(hooks_for(spec, "bogus").empty());
}

}  // namespace
}  // namespace runvm::runtime
