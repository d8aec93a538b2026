#include "runtime/vm/exec_session.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <optional>

#include "agent/host_client.h"
#include "base/file_io.h"
#include "runtime/vm/console_socket.h"
#include "runtime/vm/control.h"
#include "runtime/vm/vsock_connect.h"

namespace runvm::runtime::vm {

namespace {

constexpr int kLostStatus = 255;

// Signals the exec'd process should get when they reach its host stand-in.
constexpr int kForwarded[] = {SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2};
std::atomic<int> g_pending_signal{0};

void remember_signal(int sig) {
  g_pending_signal.store(sig);
}

// Restores a terminal put into raw mode for the session.
class RawTerminal {
 public:
  explicit RawTerminal(int fd) : fd_(fd) {
    if (::tcgetattr(fd_, &saved_) != 0) return;
    termios raw = saved_;
    ::cfmakeraw(&raw);
    active_ = ::tcsetattr(fd_, TCSANOW, &raw) == 0;
  }
  ~RawTerminal() {
    if (active_) ::tcsetattr(fd_, TCSANOW, &saved_);
  }

 private:
  int fd_;
  termios saved_{};
  bool active_ = false;
};

class ExecSession {
 public:
  ExecSession(int agent_fd, std::string process_id, bool terminal, int in_fd, int out_fd,
              int err_fd)
      : fd_(agent_fd),
        client_(agent_fd),
        id_(std::move(process_id)),
        terminal_(terminal),
        in_(in_fd),
        out_(out_fd),
        err_(err_fd) {}

  // A pod member's processes are addressed to it in the pod VM's agent.
  void address(const std::string& container) { client_.address(container); }

  Result<int> begin(const nlohmann::json& process) {
    if (auto h = client_.hello(); !h) return h.error().wrap("agent hello");
    auto info = client_.exec(id_, process, /*stdin=*/true);
    if (!info) return info.error();
    handle_ = info->handle;
    if (terminal_) send_window_size();
    return info->pid;
  }

  // Relays until the process has exited and its output is drained.
  int relay() {
    auto deadline = std::chrono::steady_clock::time_point::max();
    const int streams = terminal_ ? 1 : 2;
    while (true) {
      if (!drain()) {
        if (exit_) return exit_->host_code();
        std::fprintf(stderr, "runvm: exec: lost the connection to the guest agent\n");
        return kLostStatus;
      }
      if (exit_) {
        if (eof_ >= streams || std::chrono::steady_clock::now() > deadline)
          return exit_->host_code();
        if (deadline == std::chrono::steady_clock::time_point::max())
          deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
      }
      if (int sig = g_pending_signal.exchange(0); sig && !exit_) (void)client_.signal(id_, sig);
      if (terminal_) send_window_size();
      pollfd fds[2] = {{fd_, POLLIN, 0}, {in_, POLLIN, 0}};
      bool want_in = in_open_ && !exit_ && client_.stdin_credit(handle_) > 0;
      int n = ::poll(fds, want_in ? 2 : 1, 200);
      if (n < 0 && errno != EINTR) return kLostStatus;
      if (want_in && fds[1].revents) relay_input();
    }
  }

 private:
  bool drain() {
    while (true) {
      auto ev = client_.next_event(0);
      if (!ev) return ev.error().err == ETIMEDOUT;
      if (auto* d = std::get_if<agent::DataMsg>(&*ev)) {
        if (d->handle != handle_) continue;
        if (d->bytes.empty()) {
          ++eof_;
        } else {
          (void)write_all(d->stream == agent::Stream::kStderr ? err_ : out_, d->bytes);
        }
      } else if (auto* e = std::get_if<agent::ExitEvent>(&*ev)) {
        if (e->process_id == id_) exit_ = e->status;
      }
    }
  }

  void relay_input() {
    char buf[65536];
    size_t want = std::min<size_t>(sizeof buf, client_.stdin_credit(handle_));
    ssize_t n = ::read(in_, buf, want);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
    if (n <= 0) {
      in_open_ = false;
      (void)client_.close_stdin(id_);
      return;
    }
    if (!client_.write_stdin(handle_, std::string_view(buf, static_cast<size_t>(n))))
      in_open_ = false;
  }

  // The guest pty follows the host terminal's size (checked every loop turn: the
  // SIGWINCH of a console-socket pty goes to its reader, not to us).
  void send_window_size() {
    winsize ws{};
    if (::ioctl(out_, TIOCGWINSZ, &ws) != 0 || ws.ws_row == 0) return;
    if (ws.ws_row == rows_ && ws.ws_col == cols_) return;
    rows_ = ws.ws_row;
    cols_ = ws.ws_col;
    (void)client_.resize(id_, rows_, cols_);
  }

  int fd_;
  agent::Client client_;
  std::string id_;
  bool terminal_;
  int in_, out_, err_;
  uint32_t handle_ = 0;
  bool in_open_ = true;
  int eof_ = 0;
  uint16_t rows_ = 0, cols_ = 0;
  std::optional<agent::ExitStatus> exit_;
};

std::string new_process_id() {
  static int n = 0;
  return "exec-" + std::to_string(::getpid()) + "-" + std::to_string(++n);
}

// Connects and starts the process; on success the session is ready to relay.
Result<int> open_session(const oci::State& state, const nlohmann::json& process, const ExecIo& io,
                         std::optional<ExecSession>& session, int& pty_slave) {
  const bool terminal = process.value("terminal", false);
  int in = 0, out = 1, err = 2;
  if (terminal && !io.console_socket.empty()) {
    auto slave = send_pty_master(io.console_socket);
    if (!slave) return slave.error();
    pty_slave = *slave;
    in = out = err = pty_slave;
  }
  auto fd =
      vsock_connect(state.runvm.vsock_socket, agent::kAgentVsockPort, std::chrono::seconds(10));
  if (!fd) return fd.error().wrap("connect to the guest agent");
  session.emplace(*fd, new_process_id(), terminal, in, out, err);
  session->address(state.runvm.agent_container);
  return session->begin(process);
}

void forward_signals() {
  struct sigaction sa {};
  sa.sa_handler = remember_signal;
  sigemptyset(&sa.sa_mask);
  for (int sig : kForwarded) ::sigaction(sig, &sa, nullptr);
}

}  // namespace

Result<int> exec_in_vm(const oci::State& state, const nlohmann::json& process, const ExecIo& io) {
  ::signal(SIGPIPE, SIG_IGN);
  const bool terminal = process.value("terminal", false);
  if (!io.detach) {
    std::optional<ExecSession> session;
    int slave = -1;
    auto pid = open_session(state, process, io, session, slave);
    if (!pid) return pid.error();
    if (!io.pid_file.empty()) {
      if (auto ok = write_file_atomic(io.pid_file, std::to_string(::getpid()), 0644); !ok)
        return ok.error();
    }
    forward_signals();
    std::optional<RawTerminal> raw;
    if (terminal && slave < 0 && ::isatty(0)) raw.emplace(0);
    return session->relay();
  }
  // Detached: a child holds the session and exits with the process's status; the
  // parent waits only for "started" (or the error) on a pipe.
  int ready[2];
  if (::pipe2(ready, O_CLOEXEC) != 0) return Error::from_errno("pipe");
  pid_t child = ::fork();
  if (child < 0) return Error::from_errno("fork");
  if (child == 0) {
    ::close(ready[0]);
    ::setsid();
    std::optional<ExecSession> session;
    int slave = -1;
    auto pid = open_session(state, process, io, session, slave);
    if (!pid) {
      (void)write_all(ready[1], "ERR " + pid.error().message);
      ::_exit(1);
    }
    (void)write_all(ready[1], "OK");
    ::close(ready[1]);
    forward_signals();
    ::_exit(session->relay());
  }
  ::close(ready[1]);
  std::string reply;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(ready[0], buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
    if (n > 0) reply.append(buf, static_cast<size_t>(n));
  ::close(ready[0]);
  if (reply != "OK") {
    int ws;
    ::waitpid(child, &ws, 0);
    return Error(
        reply.size() > 4 ? reply.substr(4) : "the exec session ended before the process ran", EIO);
  }
  if (!io.pid_file.empty()) {
    if (auto ok = write_file_atomic(io.pid_file, std::to_string(child), 0644); !ok) {
      ::kill(child, SIGKILL);
      return ok.error();
    }
  }
  return 0;
}

}  // namespace runvm::runtime::vm
