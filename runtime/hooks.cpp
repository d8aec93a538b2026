#include "runtime/hooks.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>

#include "oci/parse.h"

namespace runvm::runtime {

namespace {

constexpr size_t kOutputKept = 1024;

struct Pipe {
  int r = -1, w = -1;
  ~Pipe() {
    if (r >= 0) ::close(r);
    if (w >= 0) ::close(w);
  }
  void close_w() {
    if (w >= 0) ::close(w), w = -1;
  }
};

[[noreturn]] void exec_hook(const oci::Hook& h, int in, int out) {
  ::dup2(in, 0);
  ::dup2(out, 1);
  ::dup2(out, 2);
  for (int sig = 1; sig < NSIG; ++sig) ::signal(sig, SIG_DFL);
  std::vector<std::string> args = h.args.value_or(oci::StringList{h.path});
  if (args.empty()) args.push_back(h.path);
  std::vector<std::string> env = h.env.value_or(oci::StringList{});
  std::vector<char*> argv, envp;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  ::execve(h.path.c_str(), argv.data(), envp.data());
  std::fprintf(stderr, "exec: %s", std::strerror(errno));
  ::_exit(127);
}

// A hook that exits (or fails to exec) before we write its state closes the pipe; the
// write then raises SIGPIPE, which must not kill the runtime. The signal is blocked for the
// write and a pending one consumed, leaving the process's disposition alone.
void write_ignoring_epipe(int fd, const std::string& data) {
  sigset_t pipe_set, old;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  ::pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
  ssize_t w = ::write(fd, data.data(), data.size());
  if (w < 0 && errno == EPIPE) {
    const timespec zero{0, 0};
    while (::sigtimedwait(&pipe_set, nullptr, &zero) == -1 && errno == EINTR) {
    }
  }
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
}

// Runs one hook; "" on success, else what went wrong.
std::string run_one(const oci::Hook& h, const std::string& state_json) {
  Pipe in, out;
  int a[2], b[2];
  if (::pipe2(a, O_CLOEXEC) != 0) return std::string("pipe: ") + std::strerror(errno);
  in.r = a[0], in.w = a[1];
  if (::pipe2(b, O_CLOEXEC) != 0) return std::string("pipe: ") + std::strerror(errno);
  out.r = b[0], out.w = b[1];
  pid_t pid = ::fork();
  if (pid < 0) return std::string("fork: ") + std::strerror(errno);
  if (pid == 0) exec_hook(h, in.r, out.w);
  out.close_w();
  ::close(in.r), in.r = -1;
  // The state fits in the pipe buffer; a hook that never reads it must not block us.
  ::fcntl(in.w, F_SETFL, O_NONBLOCK);
  write_ignoring_epipe(in.w, state_json);
  in.close_w();

  using clock = std::chrono::steady_clock;
  const auto deadline =
      h.timeout ? clock::now() + std::chrono::seconds(*h.timeout) : clock::time_point::max();
  std::string output;
  int ws = 0;
  bool reaped = false, timed_out = false;
  while (!reaped) {
    pollfd p{out.r, POLLIN, 0};
    if (out.r >= 0 && ::poll(&p, 1, 50) > 0) {
      char buf[4096];
      ssize_t n = ::read(out.r, buf, sizeof buf);
      if (n > 0) {
        output.append(buf, static_cast<size_t>(n));
        if (output.size() > kOutputKept) output.erase(0, output.size() - kOutputKept);
      } else if (n == 0) {
        ::close(out.r), out.r = -1;
      }
    } else if (out.r < 0) {
      ::usleep(20000);
    }
    pid_t r = ::waitpid(pid, &ws, WNOHANG);
    if (r == pid) reaped = true;
    if (!reaped && clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &ws, 0);
      reaped = timed_out = true;
    }
  }
  while (!output.empty() && (output.back() == '\n' || output.back() == '\r')) output.pop_back();
  std::string why;
  if (timed_out) {
    why = "timed out after " + std::to_string(*h.timeout) + "s";
  } else if (WIFEXITED(ws) && WEXITSTATUS(ws) == 0) {
    return "";
  } else if (WIFEXITED(ws)) {
    why = "exited with status " + std::to_string(WEXITSTATUS(ws));
  } else {
    why = "killed by signal " + std::to_string(WTERMSIG(ws));
  }
  if (!output.empty()) why += ": " + output;
  return why;
}

}  // namespace

Status run_hooks(std::string_view point, const std::vector<oci::Hook>& hooks,
                 const oci::State& state) {
  const std::string json = oci::to_json(state, /*include_private=*/false).dump();
  for (size_t i = 0; i < hooks.size(); ++i) {
    std::string why = run_one(hooks[i], json);
    if (!why.empty()) {
      return Error(
          std::string(point) + " hook " + std::to_string(i) + " (" + hooks[i].path + "): " + why,
          ECANCELED);
    }
  }
  return {};
}

std::vector<oci::Hook> hooks_for(const oci::Spec& spec, std::string_view point) {
  if (!spec.hooks) return {};
  const oci::Hooks& h = *spec.hooks;
  const std::optional<std::vector<oci::Hook>>* list = nullptr;
  if (point == "prestart")
    list = &h.prestart;
  else if (point == "createRuntime")
    list = &h.createRuntime;
  else if (point == "createContainer")
    list = &h.createContainer;
  else if (point == "startContainer")
    list = &h.startContainer;
  else if (point == "poststart")
    list = &h.poststart;
  else if (point == "poststop")
    list = &h.poststop;
  return list && *list ? **list : std::vector<oci::Hook>{};
}

void run_poststop_hooks(oci::State state) {
  state.status = oci::ContainerStatus::kStopped;
  state.pid = 0;
  auto spec = oci::parse_config_file(state.runvm.config_path);
  if (!spec) return;  // the bundle is gone: nothing to run
  if (auto ok = run_hooks("poststop", hooks_for(*spec, "poststop"), state); !ok)
    std::fprintf(stderr, "runvm: warning: %s\n", ok.error().message.c_str());
}

}  // namespace runvm::runtime
