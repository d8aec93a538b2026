// runvm check: the KVM verdicts from probed facts, and the command on this host
// (whose /dev/kvm, where it is a software KVM, must be reported as unusable).
#include "runtime/host_check.h"

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/runtime/test_support.h"

namespace runvm::runtime {
namespace {

KvmFacts usable() {
  KvmFacts f;
  f.device = true;
  f.api_version = 12;
  f.svm = true;
  f.modules = {"kvm_amd"};
  return f;
}

TEST(HostCheck, HardwareKvmPasses) {
  CheckResult r = judge_kvm(usable());
  EXPECT_EQ(r.level, CheckLevel::kOk) << r.detail;
  EXPECT_NE(r.detail.find("kvm_amd (AMD-V)"), std::string::npos) << r.detail;
  KvmFacts nested = usable();
  nested.hypervisor = true;
  EXPECT_NE(judge_kvm(nested).detail.find("nested"), std::string::npos);
}

TEST(HostCheck, EachKvmProblemFailsWithAFix) {
  KvmFacts none;
  KvmFacts denied = usable();
  denied.open_errno = EACCES;
  KvmFacts old_api = usable();
  old_api.api_version = 11;
  KvmFacts no_vm = usable();
  no_vm.create_vm_errno = ENOMEM;
  KvmFacts software = usable();
  software.svm = false;
  software.modules = {"kvm_pvm"};
  KvmFacts no_flags = usable();
  no_flags.svm = false;
  for (const auto& [facts, words] : {std::pair{none, "no /dev/kvm"},
                                     {denied, "Permission denied"},
                                     {old_api, "version 11"},
                                     {no_vm, "KVM_CREATE_VM"},
                                     {software, "software KVM (kvm_pvm)"},
                                     {no_flags, "no vmx/svm"}}) {
    CheckResult r = judge_kvm(facts);
    EXPECT_EQ(r.level, CheckLevel::kFail) << words;
    EXPECT_NE(r.detail.find(words), std::string::npos) << r.detail;
    EXPECT_FALSE(r.fix.empty()) << words;
  }
  EXPECT_EQ(judge_kvm(denied).fix, "run runvm as root");
}

TEST(HostCheck, FailuresDecideTheVerdict) {
  std::vector<CheckResult> results = {{"a", CheckLevel::kOk, "fine", ""},
                                      {"b", CheckLevel::kWarn, "meh", "do x"}};
  EXPECT_TRUE(all_passed(results));
  EXPECT_EQ(format_json(results)["ok"], true);
  results.push_back({"c", CheckLevel::kFail, "broken", "do y"});
  EXPECT_FALSE(all_passed(results));
  std::string text = format_text(results);
  EXPECT_NE(text.find("FAIL  c          broken\n"), std::string::npos) << text;
  EXPECT_NE(text.find("fix: do y"), std::string::npos) << text;
  EXPECT_EQ(format_json(results)["checks"][2]["fix"], "do y");
}

// On this host: the command's exit status follows its verdict, and a KVM without
// vmx/svm (as on the build machines) is named as the reason.
TEST(HostCheck, CommandOnThisHost) {
  testing::TempDir tmp;
  auto r = testing::run_runvm({"--root", tmp.path() + "/root", "check", "--format", "json"});
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << r.out << r.err;
  EXPECT_EQ(r.exit_status, j["ok"] == true ? 0 : 1) << r.out;
  const KvmFacts facts = probe_kvm();
  ASSERT_EQ(j["checks"][0]["name"], "kvm");
  if (!facts.vmx && !facts.svm) {
    EXPECT_EQ(r.exit_status, 1) << r.out;
    EXPECT_EQ(j["checks"][0]["result"], "FAIL");
    EXPECT_NE(j["checks"][0]["detail"].get<std::string>().find("no vmx/svm"), std::string::npos);
  }
  // The vsock check binds a socket under --root and leaves nothing behind.
  EXPECT_EQ(j["checks"][2]["name"], "vsock");
  EXPECT_EQ(j["checks"][2]["result"], "ok") << j["checks"][2]["detail"];
  EXPECT_TRUE(std::filesystem::is_empty(tmp.path() + "/root"));
}

}  // namespace
}  // namespace runvm::runtime
