#include "runtime/vm/vm_template.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include <sched.h>

#include "base/file_io.h"
#include "base/fnv1a.h"
#include "base/remove_tree.h"
#include "base/unique_fd.h"
#include "runtime/net/tap_device.h"

namespace runvm::runtime::vm {

namespace {

constexpr const char* kTemplateFlag = " runvm.template=1";

// runvm-vmm's flags that take no value.
bool lone_flag(const std::string& flag) {
  return flag == "--no-seccomp" || flag == "--no-mount-jail";
}

// argv[1..] as (flag, value) pairs; a lone flag has an empty value.
std::vector<std::pair<std::string, std::string>> flag_pairs(const std::vector<std::string>& args) {
  std::vector<std::pair<std::string, std::string>> out;
  for (size_t i = 1; i < args.size(); ++i) {
    if (lone_flag(args[i]) || i + 1 == args.size()) {
      out.emplace_back(args[i], "");
    } else {
      out.emplace_back(args[i], args[i + 1]);
      ++i;
    }
  }
  return out;
}

void append(std::vector<std::string>& out, const std::string& f, const std::string& v) {
  out.push_back(f);
  if (!lone_flag(f)) out.push_back(v);
}

// Flags whose value is this VM's own (host paths), not the guest's view.
bool per_vm_value(const std::string& flag) {
  return flag == "--vsock-uds" || flag == "--console" || flag == "--user";
}

std::string file_identity(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return path + ":missing";
  return path + ":" + std::to_string(st.st_size) + ":" + std::to_string(st.st_mtim.tv_sec) + "." +
         std::to_string(st.st_mtim.tv_nsec) + ":" + std::to_string(st.st_ino);
}

// `tap-fd=N,mac=M,mtu=U` without the tap and the MAC (",mtu=U" or "").
std::string net_options_but_tap_and_mac(const std::string& v) {
  std::string out;
  size_t at = 0;
  while (at <= v.size()) {
    size_t comma = v.find(',', at);
    if (comma == std::string::npos) comma = v.size();
    const std::string opt = v.substr(at, comma - at);
    if (opt.rfind("tap-fd=", 0) != 0 && opt.rfind("mac=", 0) != 0 && !opt.empty()) out += "," + opt;
    at = comma + 1;
  }
  return out;
}

// The fd number the template VM's tap gets (`--net tap-fd=`).
constexpr int kTemplateTapFd = 3;

// What the guest of a VM with these arguments saw before its snapshot point.
std::string shape_of(const std::vector<std::string>& args) {
  std::string shape = "vmm=" + (args.empty() ? "" : file_identity(args[0]));
  for (const auto& [f, v] : flag_pairs(args)) {
    if (per_vm_value(f)) continue;
    if (f == "--kernel" || f == "--initrd")
      shape += "\n" + f + "=" + file_identity(v);
    else if (f == "--net")
      shape += "\n--net" + net_options_but_tap_and_mac(v);
    else if (f == "--fs")
      shape += "\n--fs=" + v.substr(0, v.find('='));  // the tag; the directory is this VM's
    else
      shape += "\n" + f + "=" + v;
  }
  return shape;
}

std::string hex64(uint64_t h) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

bool exists(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0;
}

// The template VM's arguments: the same shape, its shares empty, its sockets and
// console in `tmp`, saved into `tmp` at the snapshot point.
std::vector<std::string> build_args(const std::vector<std::string>& args, const std::string& tmp) {
  std::vector<std::string> out = {args.empty() ? "" : args[0]};
  for (auto [f, v] : flag_pairs(args)) {
    if (f == "--cmdline") {
      v += kTemplateFlag;
    } else if (f == "--fs") {
      const size_t eq = v.find('=');
      const size_t colon = v.find(':', eq);
      v = v.substr(0, eq) + "=" + tmp + "/empty" +
          (colon == std::string::npos ? "" : v.substr(colon));
    } else if (f == "--net") {
      v = "tap-fd=" + std::to_string(kTemplateTapFd) + ",mac=" + kTemplateGuestMac +
          net_options_but_tap_and_mac(v);
    } else if (f == "--vsock-uds") {
      v = tmp + "/vsock.sock";
    } else if (f == "--console") {
      v = "file:" + tmp + "/console.log";
    }
    append(out, f, v);
  }
  out.push_back("--snapshot-save");
  out.push_back(tmp);
  return out;
}

// Runs the template VM to its snapshot point (it exits 0 once saved).
Status run_template_vm(const std::vector<std::string>& args, const std::string& tmp,
                       unsigned timeout_s) {
  std::vector<char*> argv;
  std::vector<std::string> copy = args;
  for (auto& a : copy) argv.push_back(a.data());
  argv.push_back(nullptr);
  const std::string log = tmp + "/vmm.log";
  int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Error::from_errno("template: open " + log);
  pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fd);
    return Error::from_errno("template: fork runvm-vmm");
  }
  const bool nic = std::find(args.begin(), args.end(), "--net") != args.end();
  if (pid == 0) {
    int null = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    ::dup2(null, 0);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    if (nic) {
      // A tap nobody else sees, in a network namespace of the template VM's own.
      if (::unshare(CLONE_NEWNET) != 0) {
        std::fprintf(stderr, "template: unshare(CLONE_NEWNET): %s\n", std::strerror(errno));
        ::_exit(126);
      }
      auto tap = net::open_tap();
      if (!tap) {
        std::fprintf(stderr, "template: %s\n", tap.error().what().c_str());
        ::_exit(126);
      }
      if (tap->fd.get() == kTemplateTapFd)
        ::fcntl(kTemplateTapFd, F_SETFD, 0);
      else
        ::dup2(tap->fd.get(), kTemplateTapFd);
    }
    ::execv(argv[0], argv.data());
    std::fprintf(stderr, "exec %s: %s\n", argv[0], std::strerror(errno));
    ::_exit(127);
  }
  ::close(fd);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  int ws = 0;
  while (true) {
    pid_t r = ::waitpid(pid, &ws, WNOHANG);
    if (r == pid) break;
    if (r < 0 && errno != EINTR) return Error::from_errno("template: wait for runvm-vmm");
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &ws, 0);
      return Error("template VM did not reach its snapshot point in " + std::to_string(timeout_s) +
                       " s; console: " + log_tail(tmp + "/console.log", 400),
                   ETIMEDOUT);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (!WIFEXITED(ws) || WEXITSTATUS(ws) != 0)
    return Error("template VM failed (" +
                     (WIFEXITED(ws) ? "exit " + std::to_string(WEXITSTATUS(ws))
                                    : std::string("signal ") + strsignal(WTERMSIG(ws))) +
                     "): " + log_tail(log, 300) +
                     "; console: " + log_tail(tmp + "/console.log", 400),
                 EIO);
  if (!exists(tmp + "/vm.state") || !exists(tmp + "/memory"))
    return Error(
        "template VM ended without saving (the guest never reached its snapshot "
        "point); console: " +
            log_tail(tmp + "/console.log", 400),
        EIO);
  return {};
}

}  // namespace

std::string template_key(const std::vector<std::string>& vmm_args) {
  const std::string shape = shape_of(vmm_args);
  return hex64(fnv1a(shape.data(), shape.size()));
}

Result<std::string> ensure_template(const std::string& snapshot_dir,
                                    const std::vector<std::string>& vmm_args, unsigned timeout_s) {
  const std::string key = template_key(vmm_args);
  const std::string dir = snapshot_dir + "/" + key;
  if (exists(dir + "/vm.state")) return dir;
  std::error_code ec;
  std::filesystem::create_directories(snapshot_dir, ec);
  if (ec) return Error("template: mkdir " + snapshot_dir + ": " + ec.message(), ec.value());
  // One builder per shape; the others wait for it and use what it made.
  const std::string lock_path = dir + ".lock";
  UniqueFd lock(::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (!lock.valid()) return Error::from_errno("template: open " + lock_path);
  while (::flock(lock.get(), LOCK_EX) != 0)
    if (errno != EINTR) return Error::from_errno("template: lock " + lock_path);
  if (exists(dir + "/vm.state")) return dir;
  const std::string tmp = dir + ".tmp";
  if (exists(tmp))
    if (auto s = remove_tree(tmp); !s) return s.error().wrap("template");
  if (::mkdir(tmp.c_str(), 0700) != 0 || ::mkdir((tmp + "/empty").c_str(), 0700) != 0)
    return Error::from_errno("template: mkdir " + tmp);
  if (auto s = run_template_vm(build_args(vmm_args, tmp), tmp, timeout_s); !s) {
    (void)remove_tree(tmp);
    return s.error();
  }
  std::ofstream(tmp + "/shape.txt") << shape_of(vmm_args) << "\n";
  if (::rename(tmp.c_str(), dir.c_str()) != 0) {
    Error e = Error::from_errno("template: rename " + tmp);
    (void)remove_tree(tmp);
    return e;
  }
  return dir;
}

std::vector<std::string> restore_args(const std::vector<std::string>& vmm_args,
                                      const std::string& dir) {
  std::vector<std::string> out = {vmm_args.empty() ? "" : vmm_args[0]};
  for (const auto& [f, v] : flag_pairs(vmm_args)) {
    if (f == "--kernel" || f == "--initrd" || f == "--cmdline") continue;
    append(out, f, v);
  }
  out.push_back("--restore");
  out.push_back(dir);
  return out;
}

void discard_template(const std::string& dir) {
  (void)remove_tree(dir);
}

}  // namespace runvm::runtime::vm
