// The runvm commands that work in full without a VM: spec, features, list,
// state, delete, --log, --version.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "oci/parse.h"
#include "oci/spec.h"
#include "oci/validate.h"
#include "tests/runtime/test_support.h"

namespace runvm::runtime {
namespace {

using testing::exists;
using testing::lines;
using testing::RunResult;
using testing::TempDir;

class Cli : public ::testing::Test {
 protected:
  std::string root() const { return tmp_ / "root"; }
  std::string bundle() const { return tmp_ / "bundle"; }
  RunResult runvm(std::vector<std::string> args) const {
    args.insert(args.begin(), {"--root", root()});
    return testing::run_runvm(args);
  }
  static std::string read(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  TempDir tmp_;
};

TEST_F(Cli, SpecWritesAValidConfigAndRefusesToOverwrite) {
  std::filesystem::create_directories(bundle());
  RunResult first = runvm({"spec", "--bundle", bundle()});
  ASSERT_EQ(first.exit_status, 0) << first.err;
  const std::string config = read(bundle() + "/config.json");
  auto spec = oci::parse_config(config);
  ASSERT_TRUE(spec) << spec.error().message;
  EXPECT_EQ(oci::format_violations(oci::validate(*spec)), "");
  EXPECT_EQ(spec->process->args, oci::StringList{"sh"});

  RunResult second = runvm({"spec", "-b", bundle()});
  EXPECT_EQ(second.exit_status, 1);
  EXPECT_EQ(second.err, "runvm: spec: File config.json exists. Remove it first\n");
  EXPECT_EQ(read(bundle() + "/config.json"), config);
}

TEST_F(Cli, SpecAndCreateDefaultToTheCurrentDirectory) {
  std::filesystem::create_directories(bundle() + "/rootfs");
  RunResult spec = testing::run_runvm({"spec"}, bundle());
  ASSERT_EQ(spec.exit_status, 0) << spec.err;
  EXPECT_TRUE(exists(bundle() + "/config.json"));
  // The default spec asks for a terminal: a detached create needs a console socket.
  RunResult create = testing::run_runvm({"--root", root(), "create", "c1"}, bundle());
  EXPECT_EQ(create.exit_status, 1);
  EXPECT_NE(create.err.find("create c1: cannot allocate tty"), std::string::npos) << create.err;
  EXPECT_FALSE(exists(root() + "/c1"));
}

TEST_F(Cli, SpecRootlessIsValid) {
  std::filesystem::create_directories(bundle());
  RunResult r = runvm({"spec", "--rootless", "-b", bundle()});
  ASSERT_EQ(r.exit_status, 0) << r.err;
  auto spec = oci::parse_config(read(bundle() + "/config.json"));
  ASSERT_TRUE(spec) << spec.error().message;
  EXPECT_EQ(oci::format_violations(oci::validate(*spec)), "");
  ASSERT_TRUE(spec->linux && spec->linux->uidMappings);
  EXPECT_FALSE(spec->linux->uidMappings->empty());
}

TEST_F(Cli, SpecIntoMissingBundleFails) {
  RunResult r = runvm({"spec", "-b", tmp_ / "missing"});
  EXPECT_EQ(r.exit_status, 1);
  EXPECT_NE(r.err.find("No such file or directory"), std::string::npos) << r.err;
}

TEST_F(Cli, FeaturesPrintsTheFeaturesDocument) {
  RunResult r = runvm({"features"});
  ASSERT_EQ(r.exit_status, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["ociVersionMax"], oci::kSpecVersion);
  EXPECT_TRUE(j["hooks"].is_array());
  EXPECT_TRUE(j["linux"]["namespaces"].is_array());
  EXPECT_TRUE(j["annotations"].contains("io.github.seccomp.libseccomp.version"));
}

TEST_F(Cli, ListOfEmptyRoot) {
  RunResult table = runvm({"list"});
  EXPECT_EQ(table.exit_status, 0) << table.err;
  EXPECT_EQ(table.out, "ID          PID         STATUS      BUNDLE      CREATED     OWNER\n");
  RunResult json = runvm({"list", "--format", "json"});
  EXPECT_EQ(json.exit_status, 0);
  EXPECT_EQ(json.out, "null\n");  // as runc
  RunResult quiet = runvm({"list", "-q"});
  EXPECT_EQ(quiet.exit_status, 0);
  EXPECT_EQ(quiet.out, "");
}

TEST_F(Cli, ListShowsEveryContainerInEachFormat) {
  int sleeper = testing::spawn_sleeper();
  testing::make_container(root(), "b-live", bundle(), sleeper, oci::ContainerStatus::kRunning);
  testing::make_container(root(), "a-gone", bundle(), testing::dead_pid());

  RunResult json = runvm({"list", "-f", "json"});
  ASSERT_EQ(json.exit_status, 0) << json.err;
  auto j = nlohmann::json::parse(json.out);
  ASSERT_TRUE(j.is_array());
  ASSERT_EQ(j.size(), 2u);
  EXPECT_EQ(j[0]["id"], "a-gone");
  EXPECT_EQ(j[0]["status"], "stopped");
  EXPECT_EQ(j[0]["pid"], 0);
  EXPECT_EQ(j[1]["id"], "b-live");
  EXPECT_EQ(j[1]["status"], "running");
  EXPECT_EQ(j[1]["pid"], sleeper);
  for (const auto& entry : j) {
    for (const char* key :
         {"ociVersion", "id", "pid", "status", "bundle", "rootfs", "created", "owner"}) {
      EXPECT_TRUE(entry.contains(key)) << key;
    }
    EXPECT_EQ(entry["bundle"], bundle());
    EXPECT_EQ(entry["rootfs"], bundle() + "/rootfs");
    EXPECT_EQ(entry["owner"], testing::current_user_name());
    EXPECT_EQ(entry["annotations"]["org.example.test"], "yes");
  }

  RunResult table = runvm({"list"});
  ASSERT_EQ(table.exit_status, 0);
  auto rows = lines(table.out);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].rfind("ID", 0), 0u);
  std::istringstream row1(rows[1]);
  std::string id, pid, status, bundle_col, created, owner;
  row1 >> id >> pid >> status >> bundle_col >> created >> owner;
  EXPECT_EQ(id, "a-gone");
  EXPECT_EQ(pid, "0");
  EXPECT_EQ(status, "stopped");
  EXPECT_EQ(bundle_col, bundle());
  EXPECT_EQ(created, "2026-01-02T03:04:05.123456789Z");
  EXPECT_EQ(owner, testing::current_user_name());
  // Columns line up: STATUS starts at the same offset in every row.
  EXPECT_EQ(rows[0].find("STATUS"), rows[1].find("stopped"));
  EXPECT_EQ(rows[0].find("STATUS"), rows[2].find("running"));

  RunResult quiet = runvm({"list", "--quiet"});
  EXPECT_EQ(quiet.out, "a-gone\nb-live\n");
  testing::kill_child(sleeper);
}

TEST_F(Cli, StateOfStoppedContainerHasRuncsShape) {
  testing::make_container(root(), "c1", bundle(), testing::dead_pid());
  RunResult r = runvm({"state", "c1"});
  ASSERT_EQ(r.exit_status, 0) << r.err;
  auto j = nlohmann::ordered_json::parse(r.out);
  std::vector<std::string> keys;
  for (const auto& [k, v] : j.items()) keys.push_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"ociVersion", "id", "pid", "status", "bundle", "rootfs",
                                            "created", "owner", "annotations"}));
  EXPECT_EQ(j["ociVersion"], oci::kSpecVersion);
  EXPECT_EQ(j["id"], "c1");
  EXPECT_EQ(j["pid"], 0);
  EXPECT_EQ(j["status"], "stopped");
  EXPECT_EQ(j["bundle"], bundle());
  EXPECT_EQ(j["created"], "2026-01-02T03:04:05.123456789Z");
  EXPECT_EQ(j["owner"], "");
}

TEST_F(Cli, StateOfRunningContainerReportsItsPid) {
  int sleeper = testing::spawn_sleeper();
  testing::make_container(root(), "c1", bundle(), sleeper, oci::ContainerStatus::kRunning);
  RunResult r = runvm({"state", "c1"});
  ASSERT_EQ(r.exit_status, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["status"], "running");
  EXPECT_EQ(j["pid"], sleeper);
  testing::kill_child(sleeper);
  // The recorded process died: now stopped.
  RunResult after = runvm({"state", "c1"});
  EXPECT_EQ(nlohmann::json::parse(after.out)["status"], "stopped");
}

TEST_F(Cli, DeleteRemovesTheStateDirectory) {
  testing::make_container(root(), "c1", bundle(), testing::dead_pid());
  ASSERT_TRUE(exists(root() + "/c1"));
  RunResult r = runvm({"delete", "c1"});
  EXPECT_EQ(r.exit_status, 0) << r.err;
  EXPECT_FALSE(exists(root() + "/c1"));
  RunResult again = runvm({"delete", "c1"});
  EXPECT_EQ(again.exit_status, 1);
  EXPECT_EQ(again.err, "runvm: delete c1: container does not exist\n");
}

TEST_F(Cli, DeleteOfRunningContainerNeedsForce) {
  int sleeper = testing::spawn_sleeper();
  testing::make_container(root(), "c1", bundle(), sleeper, oci::ContainerStatus::kRunning);
  RunResult refused = runvm({"delete", "c1"});
  EXPECT_EQ(refused.exit_status, 1);
  EXPECT_EQ(refused.err,
            "runvm: delete c1: cannot delete container c1 that is not stopped: running\n");
  EXPECT_TRUE(exists(root() + "/c1"));

  RunResult forced = runvm({"delete", "-f", "c1"});
  EXPECT_EQ(forced.exit_status, 0) << forced.err;
  EXPECT_FALSE(exists(root() + "/c1"));
  // The "VMM" got SIGKILL (waited for with a deadline, so a failure cannot hang).
  int status = 0;
  pid_t reaped = 0;
  for (int i = 0; i < 500 && reaped == 0; ++i) {
    reaped = ::waitpid(sleeper, &status, WNOHANG);
    if (reaped == 0) ::usleep(10 * 1000);
  }
  if (reaped == 0) testing::kill_child(sleeper);
  ASSERT_EQ(reaped, sleeper);
  EXPECT_TRUE(WIFSIGNALED(status));
  EXPECT_EQ(WTERMSIG(status), SIGKILL);
}

TEST_F(Cli, LogFileInTextFormat) {
  const std::string log = tmp_ / "log.txt";
  RunResult r = runvm({"--log", log, "state", "nope"});
  EXPECT_EQ(r.exit_status, 1);
  EXPECT_EQ(r.err, "runvm: state nope: container does not exist\n");
  auto file = lines(read(log));
  ASSERT_EQ(file.size(), 1u);
  std::regex text(
      R"re(time="\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)" level=error msg="state nope: container does not exist")re");
  EXPECT_TRUE(std::regex_match(file[0], text)) << file[0];
}

TEST_F(Cli, LogFileInJsonFormat) {
  const std::string log = tmp_ / "log.json";
  RunResult r = runvm({"--log", log, "--log-format", "json", "kill", "nope", "KILL"});
  EXPECT_EQ(r.exit_status, 1);
  RunResult r2 = runvm({"--log", log, "--log-format", "json", "state", "a/b"});
  EXPECT_EQ(r2.exit_status, 1);
  auto file = lines(read(log));
  ASSERT_EQ(file.size(), 2u);  // appended, one object per line
  auto first = nlohmann::ordered_json::parse(file[0]);
  std::vector<std::string> keys;
  for (const auto& [k, v] : first.items()) keys.push_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"level", "msg", "time"}));
  EXPECT_EQ(first["level"], "error");
  EXPECT_EQ(first["msg"], "kill nope: container does not exist");
  EXPECT_TRUE(std::regex_match(first["time"].get<std::string>(),
                               std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d))")));
  EXPECT_EQ(nlohmann::json::parse(file[1])["msg"], "state a/b: invalid container ID format");
}

TEST_F(Cli, DebugLinesGoToTheLogOnlyWithDebug) {
  const std::string quiet_log = tmp_ / "quiet.log";
  ASSERT_EQ(runvm({"--log", quiet_log, "list"}).exit_status, 0);
  EXPECT_EQ(read(quiet_log), "");
  const std::string debug_log = tmp_ / "debug.log";
  ASSERT_EQ(runvm({"--debug", "--log", debug_log, "list"}).exit_status, 0);
  EXPECT_NE(read(debug_log).find("level=debug"), std::string::npos);
}

TEST_F(Cli, VersionNamesRunvmSpecAndCommit) {
  for (const char* flag : {"--version", "-v"}) {
    RunResult r = testing::run_runvm({flag});
    EXPECT_EQ(r.exit_status, 0) << flag;
    std::regex want(
        R"(runvm version \d+\.\d+\.\d+\ncommit: \S+\nspec: 1\.2\.0\nlibseccomp: \S+\n)");
    EXPECT_TRUE(std::regex_match(r.out, want)) << r.out;
  }
}

TEST_F(Cli, GlobalCompatibilityFlagsAreAccepted) {
  RunResult r = runvm({"--systemd-cgroup", "--rootless", "false", "--criu", "criu", "--debug",
                       "--log-format", "json", "list", "-q"});
  EXPECT_EQ(r.exit_status, 0) << r.err;
}

}  // namespace
}  // namespace runvm::runtime
