// The runvm binary's error cases: runc's wording, exit statuses, and no state
// left behind by a failed create.
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "oci/spec.h"
#include "tests/runtime/test_support.h"

namespace runvm::runtime {
namespace {

using testing::exists;
using testing::RunResult;
using testing::TempDir;

class CliErrors : public ::testing::Test {
 protected:
  std::string root() const { return tmp_ / "root"; }
  std::string bundle() const { return tmp_ / "bundle"; }
  RunResult runvm(std::vector<std::string> args) const {
    args.insert(args.begin(), {"--root", root()});
    return testing::run_runvm(args);
  }
  // Entries in --root other than the create lock file.
  std::vector<std::string> root_entries() const {
    std::vector<std::string> out;
    if (!exists(root())) return out;
    for (const auto& e : std::filesystem::directory_iterator(root())) {
      if (e.is_directory()) out.push_back(e.path().filename());
    }
    return out;
  }
  TempDir tmp_;
};

TEST_F(CliErrors, UnknownIdFailsWithRuncsMessage) {
  for (const char* verb :
       {"state", "delete", "kill", "start", "pause", "resume", "ps", "events", "update"}) {
    RunResult r = runvm({verb, "nope"});
    EXPECT_EQ(r.exit_status, 1) << verb;
    EXPECT_EQ(r.err, std::string("runvm: ") + verb + " nope: container does not exist\n") << verb;
    EXPECT_EQ(r.out, "") << verb;
  }
  RunResult exec = runvm({"exec", "nope", "true"});
  EXPECT_EQ(exec.exit_status, 255);  // runc's exit status for a failed exec
  EXPECT_EQ(exec.err, "runvm: exec nope: container does not exist\n");
}

TEST_F(CliErrors, DeleteForceOfUnknownIdSucceeds) {
  // runc treats this as nothing to do; containerd relies on it during cleanup.
  RunResult r = runvm({"delete", "--force", "nope"});
  EXPECT_EQ(r.exit_status, 0) << r.err;
}

TEST_F(CliErrors, InvalidIdsAreRejected) {
  testing::write_bundle(bundle(), testing::test_spec());
  for (const char* id : {"a/b", "..", "a b", "x:y"}) {
    RunResult st = runvm({"state", id});
    EXPECT_EQ(st.exit_status, 1) << id;
    EXPECT_NE(st.err.find("invalid container ID format"), std::string::npos) << st.err;
    RunResult cr = runvm({"create", "-b", bundle(), id});
    EXPECT_EQ(cr.exit_status, 1) << id;
    EXPECT_EQ(cr.err, std::string("runvm: create ") + id + ": invalid container ID format\n");
  }
  EXPECT_TRUE(root_entries().empty());
}

TEST_F(CliErrors, CreateOfExistingIdFailsAndKeepsTheExistingState) {
  testing::write_bundle(bundle(), testing::test_spec());
  testing::make_container(root(), "c1", bundle(), testing::dead_pid());
  std::ifstream before_in(root() + "/c1/state.json");
  std::stringstream before;
  before << before_in.rdbuf();

  RunResult r = runvm({"create", "--bundle", bundle(), "c1"});
  EXPECT_EQ(r.exit_status, 1);
  EXPECT_EQ(r.err, "runvm: create c1: container with given ID already exists\n");
  std::ifstream after_in(root() + "/c1/state.json");
  std::stringstream after;
  after << after_in.rdbuf();
  EXPECT_EQ(before.str(), after.str());
}

TEST_F(CliErrors, CreateWithMissingBundleLeavesNoState) {
  RunResult r = runvm({"create", "-b", tmp_ / "no-such-bundle", "c1"});
  EXPECT_EQ(r.exit_status, 1);
  EXPECT_EQ(r.err, "runvm: create c1: bundle \"" + (tmp_ / "no-such-bundle") +
                       "\": No such file or directory\n");
  EXPECT_TRUE(root_entries().empty());
}

TEST_F(CliErrors, CreateWithoutConfigJsonLeavesNoState) {
  std::filesystem::create_directories(bundle());
  RunResult r = runvm({"create", "-b", bundle(), "c1"});
  EXPECT_EQ(r.exit_status, 1);
  EXPECT_EQ(r.err, "runvm: create c1: bundle \"" + bundle() +
                       "\": JSON specification file config.json not found\n");
  EXPECT_TRUE(root_entries().empty());
}

TEST_F(CliErrors, CreateWithInvalidConfigPrintsTheValidationMessage) {
  oci::Spec spec = testing::test_spec();
  spec.process->args = oci::StringList{};
  testing::write_bundle(bundle(), spec);
  RunResult r = runvm({"create", "-b", bundle(), "abc"});
  EXPECT_EQ(r.exit_status, 1);
  EXPECT_EQ(r.err,
            "runvm: create abc: config.json: process.args: must contain at least one element\n");
  EXPECT_TRUE(root_entries().empty());
}

TEST_F(CliErrors, CreateReportsEveryViolation) {
  oci::Spec spec = testing::test_spec();
  spec.process->args = oci::StringList{};
  spec.process->cwd = "relative";
  testing::write_bundle(bundle(), spec);
  RunResult r = runvm({"run", "-b", bundle(), "abc"});
  EXPECT_EQ(r.exit_status, 1);
  EXPECT_NE(r.err.find("runvm: run abc: config.json: "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("process.args: must contain at least one element"), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("process.cwd: "), std::string::npos) << r.err;
  EXPECT_TRUE(root_entries().empty());
}

TEST_F(CliErrors, CreateWithUnparsableConfigNamesTheFile) {
  std::filesystem::create_directories(bundle() + "/rootfs");
  std::ofstream(bundle() + "/config.json") << "{\"ociVersion\": \"1.2.0\", \"process\": [}";
  RunResult r = runvm({"create", "-b", bundle(), "abc"});
  EXPECT_EQ(r.exit_status, 1);
  EXPECT_EQ(r.err.rfind("runvm: create abc: config.json: ", 0), 0u) << r.err;
  EXPECT_TRUE(root_entries().empty());
}

// A valid bundle whose microVM cannot start (its kernel does not exist): create
// and run fail and leave neither state nor pid file behind.
TEST_F(CliErrors, CreateThatCannotStartTheMicroVmLeavesNothing) {
  oci::Spec spec = testing::test_spec();
  spec.annotations = oci::StringMap{{"io.runvm.vm.kernel", tmp_ / "no-such-kernel"}};
  testing::write_bundle(bundle(), spec);
  for (const char* verb : {"create", "run"}) {
    RunResult r = runvm({verb, "-b", bundle(), "--pid-file", tmp_ / "pid", "c1"});
    EXPECT_EQ(r.exit_status, 1) << verb;
    EXPECT_EQ(r.err.rfind(std::string("runvm: ") + verb + " c1: ", 0), 0u) << r.err;
    EXPECT_TRUE(root_entries().empty()) << verb;
    EXPECT_FALSE(exists(tmp_ / "pid"));
  }
}

// No network namespace in config.json means host networking for runc; runvm gives the VM
// no NIC and says so under --debug (and only then).
TEST_F(CliErrors, DebugSaysWhenTheVmGetsNoNic) {
  oci::Spec spec = testing::test_spec();
  spec.annotations = oci::StringMap{{"io.runvm.vm.kernel", tmp_ / "no-such-kernel"}};
  const std::string no_nic = "the VM gets no NIC";
  const oci::Spec with_netns = spec;
  std::erase_if(*spec.linux->namespaces,
                [](const oci::Namespace& n) { return n.type == "network"; });
  ASSERT_NE(spec.linux->namespaces->size(), with_netns.linux->namespaces->size());
  testing::write_bundle(bundle(), spec);
  RunResult r = runvm({"--debug", "create", "-b", bundle(), "c1"});
  EXPECT_EQ(r.exit_status, 1);
  EXPECT_NE(r.err.find("container c1: config.json has no network namespace"), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find(no_nic), std::string::npos) << r.err;
  r = runvm({"create", "-b", bundle(), "c1"});
  EXPECT_EQ(r.err.find(no_nic), std::string::npos) << r.err;

  testing::write_bundle(bundle(), with_netns);
  r = runvm({"--debug", "create", "-b", bundle(), "c1"});
  EXPECT_EQ(r.exit_status, 1);
  EXPECT_EQ(r.err.find(no_nic), std::string::npos) << r.err;
  EXPECT_TRUE(root_entries().empty());
}

TEST_F(CliErrors, CreateOfMissingRootfsFails) {
  testing::write_bundle(bundle(), testing::test_spec());
  std::filesystem::remove(bundle() + "/rootfs");
  RunResult r = runvm({"create", "-b", bundle(), "c1"});
  EXPECT_EQ(r.exit_status, 1);
  EXPECT_NE(r.err.find("rootfs \"" + bundle() + "/rootfs\": No such file or directory"),
            std::string::npos)
      << r.err;
  EXPECT_TRUE(root_entries().empty());
}

// A host fd cannot reach a process in the guest: refused, not silently dropped.
TEST_F(CliErrors, PreserveFdsIsRefusedAndLeavesNoState) {
  testing::write_bundle(bundle(), testing::test_spec());
  for (const char* verb : {"create", "run"}) {
    RunResult r = runvm({verb, "--preserve-fds", "2", "-b", bundle(), "c1"});
    EXPECT_EQ(r.exit_status, 1) << verb;
    EXPECT_EQ(r.err, std::string("runvm: ") + verb +
                         " c1: --preserve-fds 2: host file descriptors cannot be passed into "
                         "the microVM\n");
    EXPECT_TRUE(root_entries().empty()) << verb;
  }
  int sleeper = testing::spawn_sleeper();
  testing::make_container(root(), "c2", bundle(), sleeper, oci::ContainerStatus::kRunning);
  RunResult exec = runvm({"exec", "--preserve-fds", "1", "c2", "true"});
  EXPECT_EQ(exec.exit_status, 255);
  EXPECT_EQ(exec.err,
            "runvm: exec c2: --preserve-fds 1: host file descriptors cannot be passed into the "
            "microVM\n");
  // 0 (runc's default) passes the check: this create gets as far as the kernel.
  oci::Spec spec = testing::test_spec();
  spec.annotations = oci::StringMap{{"io.runvm.vm.kernel", tmp_ / "no-such-kernel"}};
  testing::write_bundle(bundle(), spec);
  RunResult zero = runvm({"create", "--preserve-fds", "0", "-b", bundle(), "c3"});
  EXPECT_EQ(zero.exit_status, 1);
  EXPECT_EQ(zero.err.find("preserve-fds"), std::string::npos) << zero.err;
  EXPECT_NE(zero.err.find("no-such-kernel"), std::string::npos) << zero.err;
  testing::kill_child(sleeper);
}

TEST_F(CliErrors, TerminalNeedsConsoleSocketWhenDetached) {
  oci::Spec spec = testing::test_spec();
  spec.process->terminal = true;
  testing::write_bundle(bundle(), spec);
  RunResult r = runvm({"create", "-b", bundle(), "c1"});
  EXPECT_EQ(r.exit_status, 1);
  EXPECT_NE(r.err.find("cannot allocate tty if runvm will detach without setting console socket"),
            std::string::npos)
      << r.err;
  EXPECT_TRUE(root_entries().empty());
}

TEST_F(CliErrors, StoppedContainerRefusesLiveOperations) {
  testing::write_bundle(bundle(), testing::test_spec());
  testing::make_container(root(), "c1", bundle(), testing::dead_pid());
  RunResult kill = runvm({"kill", "c1", "KILL"});
  EXPECT_EQ(kill.exit_status, 1);
  EXPECT_EQ(kill.err, "runvm: kill c1: container not running\n");
  RunResult bad_signal = runvm({"kill", "c1", "SIGNOPE"});
  EXPECT_EQ(bad_signal.exit_status, 1);
  EXPECT_EQ(bad_signal.err, "runvm: kill c1: unknown signal \"SIGNOPE\"\n");
  RunResult start = runvm({"start", "c1"});
  EXPECT_EQ(start.exit_status, 1);
  EXPECT_EQ(start.err, "runvm: start c1: cannot start a container that has stopped\n");
  // `-c` after the command belongs to the command, not to exec's --cap.
  RunResult exec = runvm({"exec", "c1", "sh", "-c"});
  EXPECT_EQ(exec.exit_status, 255);
  EXPECT_EQ(exec.err, "runvm: exec c1: cannot exec in a stopped container\n");
  for (const char* verb : {"pause", "resume", "ps", "events", "update"}) {
    RunResult r = runvm({verb, "c1"});
    EXPECT_EQ(r.exit_status, 1) << verb;
    EXPECT_EQ(r.err, std::string("runvm: ") + verb + " c1: container not running\n");
  }
}

// A "running" container whose recorded VMM is a plain process: nothing answers
// for the guest, so operations on it fail, each with its command's context.
TEST_F(CliErrors, LiveOperationsWithoutAMicroVmFail) {
  testing::write_bundle(bundle(), testing::test_spec());
  int sleeper = testing::spawn_sleeper();
  testing::make_container(root(), "c1", bundle(), sleeper, oci::ContainerStatus::kRunning);
  for (std::vector<std::string> args : {std::vector<std::string>{"kill", "c1"},
                                        {"pause", "c1"},
                                        {"exec", "c1", "true"},
                                        {"events", "--stats", "c1"},
                                        {"events", "--interval", "10ms", "c1"},
                                        {"update", "--pids-limit", "5", "c1"}}) {
    RunResult r = runvm(args);
    EXPECT_NE(r.exit_status, 0) << args[0];
    EXPECT_EQ(r.err.rfind("runvm: " + args[0] + " c1: ", 0), 0u) << r.err;
  }
  testing::kill_child(sleeper);
}

TEST_F(CliErrors, UpdateAndEventsCheckTheirInputFirst) {
  testing::write_bundle(bundle(), testing::test_spec());
  int sleeper = testing::spawn_sleeper();
  testing::make_container(root(), "c1", bundle(), sleeper, oci::ContainerStatus::kRunning);
  RunResult mem = runvm({"update", "--memory", "12x", "c1"});
  EXPECT_EQ(mem.exit_status, 1);
  EXPECT_EQ(mem.err, "runvm: update c1: --memory: invalid value \"12x\"\n");
  RunResult missing = runvm({"update", "-r", bundle() + "/nope.json", "c1"});
  EXPECT_EQ(missing.exit_status, 1);
  EXPECT_NE(missing.err.find("nope.json"), std::string::npos) << missing.err;
  RunResult interval = runvm({"events", "--interval", "soon", "c1"});
  EXPECT_EQ(interval.exit_status, 1);
  EXPECT_EQ(interval.err, "runvm: events c1: invalid --interval \"soon\"\n");
  testing::kill_child(sleeper);
}

TEST_F(CliErrors, UsageErrorsExitWithOne) {
  for (std::vector<std::string> args : {std::vector<std::string>{"state"},
                                        {"list", "--bogus"},
                                        {"no-such-command"},
                                        {"--log-format", "xml", "list"},
                                        {"--rootless", "maybe", "list"},
                                        {}}) {
    RunResult r = runvm(args);
    EXPECT_EQ(r.exit_status, 1) << (args.empty() ? "" : args[0]);
    EXPECT_EQ(r.err.rfind("runvm: ", 0), 0u) << r.err;
  }
  RunResult fmt = runvm({"list", "--format", "xml"});
  EXPECT_EQ(fmt.exit_status, 1);
  EXPECT_EQ(fmt.err, "runvm: list: invalid format option\n");
}

}  // namespace
}  // namespace runvm::runtime
