#include "tests/runtime/test_support.h"

#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "oci/default_spec.h"
#include "oci/parse.h"
#include "runtime/process_liveness.h"
#include "runtime/state_dir.h"

#ifndef RUNVM_BINARY
#error "RUNVM_BINARY must name the runvm executable under test"
#endif

namespace runvm::runtime::testing {

namespace {
std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}
}  // namespace

RunResult run_runvm(const std::vector<std::string>& args, const std::string& cwd) {
  TempDir io;
  const std::string out_path = io / "out";
  const std::string err_path = io / "err";
  std::vector<std::string> argv_s = {RUNVM_BINARY};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);

  pid_t pid = ::fork();
  if (pid == 0) {
    int in = ::open("/dev/null", O_RDONLY);
    int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (in < 0 || out < 0 || err < 0) ::_exit(126);
    if (!cwd.empty() && ::chdir(cwd.c_str()) != 0) ::_exit(125);
    ::dup2(in, 0);
    ::dup2(out, 1);
    ::dup2(err, 2);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  RunResult r;
  int status = 0;
  if (pid > 0 && ::waitpid(pid, &status, 0) == pid && WIFEXITED(status)) {
    r.exit_status = WEXITSTATUS(status);
  }
  r.out = slurp(out_path);
  r.err = slurp(err_path);
  return r;
}

oci::Spec test_spec() {
  oci::Spec spec = oci::default_spec();
  spec.process->terminal = false;
  spec.process->args = oci::StringList{"true"};
  return spec;
}

void write_bundle(const std::string& dir, const oci::Spec& spec) {
  std::filesystem::create_directories(dir + "/rootfs");
  std::ofstream(dir + "/config.json") << oci::to_config_text(spec);
}

int dead_pid() {
  pid_t pid = ::fork();
  if (pid == 0) ::_exit(0);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return pid;
}

void make_container(const std::string& root, const std::string& id, const std::string& bundle,
                    int pid, oci::ContainerStatus status) {
  StateDir dir(root);
  oci::State s;
  s.ociVersion = oci::kSpecVersion;
  s.id = id;
  s.status = oci::ContainerStatus::kCreating;
  s.bundle = bundle;
  s.annotations = {{"org.example.test", "yes"}};
  s.runvm.created = "2026-01-02T03:04:05.123456789Z";
  s.runvm.rootfs = bundle + "/rootfs";
  auto lock = dir.create(s);
  ASSERT_TRUE(lock) << lock.error().message;
  s.status = status;
  s.pid = pid;
  s.runvm.pid_start_time = process_start_time(pid).value_or(0);
  auto saved = dir.save(s);
  ASSERT_TRUE(saved) << saved.error().message;
}

int spawn_sleeper() {
  pid_t pid = ::fork();
  if (pid == 0) {
    for (;;) ::pause();
  }
  return pid;
}

void kill_child(int pid) {
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
}

std::string current_user_name() {
  if (const passwd* pw = ::getpwuid(::geteuid())) return pw->pw_name;
  return "#" + std::to_string(::geteuid());
}

bool exists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

}  // namespace runvm::runtime::testing
