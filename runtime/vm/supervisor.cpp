#include "runtime/vm/supervisor.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/guest_contract.h"
#include "agent/host_client.h"
#include "base/file_io.h"
#include "base/monotonic.h"
#include "base/new_pid_namespace.h"
#include "base/unique_fd.h"
#include "oci/parse.h"
#include "runtime/net/net_attach.h"
#include "runtime/net/tap_device.h"
#include "runtime/pod/pod_plan.h"
#include "runtime/vm/control.h"
#include "runtime/vm/host_namespaces.h"
#include "runtime/vm/mountpoints.h"
#include "runtime/vm/net_cleanup.h"
#include "runtime/vm/oom_score_adj.h"
#include "runtime/vm/start_trace.h"
#include "runtime/vm/vm_layout.h"
#include "runtime/vm/vm_settings.h"
#include "runtime/vm/vm_template.h"
#include "runtime/vm/volumes.h"
#include "runtime/vm/vsock_connect.h"

namespace runvm::runtime::vm {

namespace {

constexpr int kVmmStopTimeoutMs = 10000;

// Exit status when the VM died or the agent was lost before the container exited.
constexpr int kVmLostStatus = 255;

// " runvm.share=<tag>" for every share guest-init mounts under kGuestSharesDir.
std::string guest_share_words(const SharedMounts& shared) {
  std::string w;
  for (const auto& t : shared.guest_shares) w += " " + std::string(agent::kCmdlineShare) + "=" + t;
  return w;
}

// The fd number the tap has in the VMM (`--net tap-fd=`).
constexpr int kVmmTapFd = 3;

// Kernel parameters that shorten the guest's boot without changing what runs in it: the
// crypto API's boot-time self-tests (cryptomgr.notests, ignored in FIPS mode; Kata passes it
// too) and the SP800-108 KDF's initcall, whose only work is its own self-test. Together
// ~0.75 s of a 2.6 s boot to /init in the nested test host (docs/performance.md).
constexpr const char* kBootTuning = "cryptomgr.notests initcall_blacklist=crypto_kdf108_init ";

// runvm-vmm's argv for booting this container's VM.
std::vector<std::string> vmm_args(const VmLayout& l, const VmPlan& plan, const SharedMounts& shared,
                                  const net::Tap* tap, const std::string& guest_mac) {
  const VmSettings& s = plan.settings;
  std::string shares = guest_share_words(shared);
  if (plan.pod.role == pod::PodRole::kSandbox)
    for (const char* tag : {pod::kPodRootfsTag, pod::kPodVolumesTag})
      shares += " " + std::string(agent::kCmdlineShare) + "=" + tag;
  std::vector<std::string> args = {
      s.vmm,
      "--kernel",
      s.boot_kernel.empty() ? s.kernel : s.boot_kernel,
      "--initrd",
      s.initrd,
      "--cmdline",
      "console=ttyS0 quiet panic=-1 " + std::string(kBootTuning) +
          std::string(agent::kCmdlineRootfs) + "=virtiofs:" + agent::kRootfsTag + shares,
      "--memory",
      std::to_string(s.memory_mib),
      "--cpus",
      std::to_string(s.vcpus),
      "--vsock-cid",
      "3",
      "--vsock-uds",
      l.vsock_socket(),
      "--console",
      "file:" + l.console_log(),
      "--fs",
      std::string(agent::kRootfsTag) + "=" + plan.rootfs + (plan.rootfs_readonly ? ":ro" : "")};
  // The image's set-uid binaries and file capabilities are kept in the rootfs;
  // volumes get the strict share policy (docs/security.md).
  args.back() += ":rootfs:cache=" + s.rootfs_cache;
  if (s.rootfs_writeback && !plan.rootfs_readonly) args.back() += ":writeback";
  for (const auto& v : shared.volumes) {
    args.push_back("--fs");
    args.push_back(v.tag + "=" + v.host_path + (v.readonly ? ":ro" : "") +
                   ":cache=" + s.volume_cache);
  }
  if (plan.pod.role == pod::PodRole::kSandbox) {
    // The pod's further containers are placed here while the VM runs (runtime/pod): their
    // root filesystems with the rootfs policy and cache, their bind mounts as volumes.
    args.push_back("--fs");
    args.push_back(std::string(pod::kPodRootfsTag) + "=" + pod::pod_rootfs_dir(l.dir()) +
                   ":rootfs:cache=" + s.rootfs_cache + (s.rootfs_writeback ? ":writeback" : ""));
    args.push_back("--fs");
    args.push_back(std::string(pod::kPodVolumesTag) + "=" + pod::pod_volumes_dir(l.dir()) +
                   ":cache=" + s.volume_cache);
  }
  if (!s.vmm_seccomp) args.push_back("--no-seccomp");
  if (!s.vmm_user.empty()) {
    args.push_back("--user");
    args.push_back(s.vmm_user);
  }
  if (tap) {
    args.push_back("--net");
    args.push_back("tap-fd=" + std::to_string(kVmmTapFd) + ",mac=" + guest_mac);
  }
  return args;
}

Result<pid_t> spawn_vmm(const VmLayout& l, std::vector<std::string> args,
                        const SharedMounts& shared, const net::Tap* tap) {
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  int log = ::open(l.vmm_log().c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (log < 0) return Error::from_errno("open " + l.vmm_log());
  // In the VMM's pid namespace getppid() is 0, so the child learns from a pidfd of
  // the supervisor whether its parent died before the prctl below.
  UniqueFd parent(static_cast<int>(::syscall(SYS_pidfd_open, ::getpid(), 0)));
  if (!parent.valid()) {
    Error e = Error::from_errno("pidfd_open of the supervisor");
    ::close(log);
    return e;
  }
  // The VMM is pid 1 of a pid namespace of its own: its /proc (vmm/jail/mount_jail.h)
  // then lists the VMM alone, and it can name no other process.
  pid_t pid = fork_in_new_pid_namespace();
  if (pid < 0 && errno == EPERM) {
    ::dprintf(log, "runvm: no pid namespace for the VMM (%s): it shares the supervisor's\n",
              std::strerror(errno));
    pid = ::fork();
  }
  if (pid < 0) {
    Error e = Error::from_errno("fork runvm-vmm");
    ::close(log);
    return e;
  }
  if (pid == 0) {
    // The VMM must not outlive its supervisor (delete SIGKILLs the supervisor); one that
    // died before the prctl has made the pidfd readable.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    struct pollfd gone = {parent.get(), POLLIN, 0};
    if (::poll(&gone, 1, 0) != 0) ::_exit(125);
    // O_CLOEXEC: only the dup2'ed fd 0 may reach the VMM.
    int null = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    ::dup2(null, 0);
    ::dup2(log, 1);
    ::dup2(log, 2);
    if (tap) {
      // dup2 clears FD_CLOEXEC on the copy; a tap already at that number keeps it.
      if (tap->fd.get() == kVmmTapFd)
        ::fcntl(kVmmTapFd, F_SETFD, 0);
      else
        ::dup2(tap->fd.get(), kVmmTapFd);
    }
    ::signal(SIGPIPE, SIG_DFL);
    const char* what = "";
    if (int e = bind_files_in_new_namespace(shared, &what); e != 0) {
      std::fprintf(stderr, "runvm: bind-mount %s for the guest: %s\n", what, std::strerror(e));
      ::_exit(126);
    }
    ::execv(argv[0], argv.data());
    std::fprintf(stderr, "exec %s: %s\n", argv[0], std::strerror(errno));
    ::_exit(127);
  }
  ::close(log);
  return pid;
}

std::string head_of(const std::string& path, size_t max) {
  std::ifstream in(path, std::ios::binary);
  std::string out(max, '\0');
  in.read(out.data(), static_cast<std::streamsize>(max));
  out.resize(static_cast<size_t>(in.gcount()));
  return out;
}

constexpr int kAgentCallTimeoutMs = 90000;

class Supervisor {
 public:
  Supervisor(VmLayout layout, VmPlan plan) : l_(std::move(layout)), plan_(std::move(plan)) {}

  // Boots the VM and creates the container; errors carry what went wrong.
  Status prepare() {
    if (plan_.pod.member()) return prepare_member();
    // The config goes to the agent with the bundle's bind mounts turned into
    // virtio-fs mounts of extra shares (volumes.h).
    std::ifstream in(plan_.config_path);
    nlohmann::json config = nlohmann::json::parse(in, nullptr, false);
    if (config.is_discarded()) return Error(plan_.config_path + ": not valid JSON", EINVAL);
    const std::string bundle_dir = plan_.config_path.substr(0, plan_.config_path.rfind('/'));
    auto shared = share_bind_mounts(config, bundle_dir, l_.files_dir());
    if (!shared) return shared.error();
    // Destinations are the same after the rewrite: paths in the rootfs.
    std::set<std::string> file_destinations;
    for (const auto& f : shared->files) file_destinations.insert(f.destination);
    make_mountpoints(plan_.rootfs, config, file_destinations);
    if (auto s = stage_file_binds(*shared, l_.files_dir()); !s) return s;
    if (auto s = open_nic(); !s) return s;
    if (::mkdir(l_.vm_dir().c_str(), 0700) != 0 && errno != EEXIST)
      return Error::from_errno("mkdir " + l_.vm_dir());
    if (plan_.pod.role == pod::PodRole::kSandbox)
      for (const std::string& d :
           {l_.dir() + "/pod", pod::pod_rootfs_dir(l_.dir()), pod::pod_volumes_dir(l_.dir())})
        if (::mkdir(d.c_str(), 0755) != 0 && errno != EEXIST)
          return Error::from_errno("mkdir " + d);
    const auto args = vmm_args(l_, plan_, *shared, tap_ ? &*tap_ : nullptr, guest_mac_);
    // From a template VM's snapshot where this VM's shape has one (vm_template.h).
    std::string restore_dir;
    if (plan_.settings.snapshots) {
      auto t = ensure_template(plan_.settings.snapshot_dir, args, plan_.settings.boot_timeout_s);
      if (t) {
        restore_dir = *t;
        trace_.template_ready = monotonic_ns();
      } else
        std::fprintf(stderr, "runvm: booting without a snapshot: %s\n", t.error().what().c_str());
    }
    trace_.vmm_spawn = monotonic_ns();
    auto fd = boot_vm(args, *shared, restore_dir);
    if (!fd && !restore_dir.empty() && vmm_exited()) {
      // A snapshot this runvm-vmm refused (vmm.log says why): boot instead, and let
      // the next start build the template anew.
      std::fprintf(stderr, "runvm: the snapshot in %s did not start (%s): booting\n",
                   restore_dir.c_str(), log_tail(l_.vmm_log(), 300).c_str());
      discard_template(restore_dir);
      restore_dir.clear();
      vmm_ = -1;
      vmm_done_ = false;
      ::unlink(l_.vsock_socket().c_str());
      fd = boot_vm(args, *shared, restore_dir);
    }
    if (!fd) return fd.error();
    // The VMM holds the tap now; ours would keep the device alive after the VMM is gone.
    if (tap_) tap_->fd.close();
    agent_fd_ = *fd;
    client_.emplace(agent_fd_);
    auto hello = client_->hello();
    if (!hello) return hello.error().wrap("agent hello");
    trace_.agent_ready = monotonic_ns();
    if (!restore_dir.empty()) {
      // Fresh entropy and time, then the mounts the template left for later.
      if (auto r = client_->restored(); !r) return r.error();
      trace_.restored = monotonic_ns();
    } else if (hello->boot) {
      place_guest_times(*hello->boot, trace_.agent_ready, trace_);
    }
    // The VMM prints its line before the guest runs: the log's head holds it.
    (void)parse_vmm_start_line(head_of(l_.vmm_log(), 64 << 10), trace_);
    auto info = client_->create(plan_.id, config, /*stdin=*/true);
    if (!info) return info.error().wrap("agent create");
    trace_.created = monotonic_ns();
    // From now on a guest that stops answering fails the request (within the control
    // socket's own 120 s) instead of holding the supervisor, and with it kill and delete.
    client_->set_call_timeout(kAgentCallTimeoutMs);
    return created(*info, config);
  }

  // Starts runvm-vmm (booting, or from the snapshot in `restore_dir`) and connects to
  // its guest agent.
  Result<int> boot_vm(const std::vector<std::string>& args, const SharedMounts& shared,
                      const std::string& restore_dir) {
    auto pid = spawn_vmm(l_, restore_dir.empty() ? args : restore_args(args, restore_dir), shared,
                         tap_ ? &*tap_ : nullptr);
    if (!pid) return pid.error();
    vmm_ = *pid;
    auto fd = vsock_connect_retry(
        l_.vsock_socket(), agent::kAgentVsockPort,
        std::chrono::seconds(plan_.settings.boot_timeout_s), [this]() -> Status {
          if (vmm_exited()) {
            return Error("the microVM exited during boot (" + vmm_end() +
                             "); vmm: " + log_tail(l_.vmm_log(), 300) +
                             " console: " + log_tail(l_.console_log(), 600),
                         EIO);
          }
          return {};
        });
    if (!fd) {
      // The guest's console says why its agent never came up.
      Error e = fd.error().wrap("boot");
      if (!vmm_exited()) e.message += "; console: " + log_tail(l_.console_log(), 800);
      return e;
    }
    return *fd;
  }

  // A pod member: no VM of its own. create placed its rootfs and mounts in the pod VM
  // (runtime/pod/pod_member.h); the agent there creates it beside the sandbox.
  Status prepare_member() {
    std::ifstream in(plan_.config_path);
    nlohmann::json config = nlohmann::json::parse(in, nullptr, false);
    if (config.is_discarded()) return Error(plan_.config_path + ": not valid JSON", EINVAL);
    const std::string sock = VmLayout(plan_.pod.sandbox_dir).vsock_socket();
    auto fd = vsock_connect(sock, agent::kAgentVsockPort, std::chrono::seconds(10));
    if (!fd) return fd.error().wrap("pod sandbox " + plan_.pod.sandbox_id + ": connect");
    agent_fd_ = *fd;
    client_.emplace(agent_fd_);
    client_->set_call_timeout(kAgentCallTimeoutMs);
    if (auto hello = client_->hello(); !hello) return hello.error().wrap("agent hello");
    auto info = client_->create_in_pod(plan_.id, config, plan_.pod.guest_rootfs, /*stdin=*/true);
    if (!info) return info.error().wrap("agent create in pod " + plan_.pod.sandbox_id);
    return created(*info, config);
  }

  // The container exists in the guest: its process, terminal mode and control socket.
  Status created(const agent::ProcessInfo& info, const nlohmann::json& config) {
    handle_ = info.handle;
    terminal_ = config.contains("process") && config["process"].is_object() &&
                config["process"].value("terminal", false);
    auto ctl = control_listen(l_.control_socket());
    if (!ctl) return ctl.error();
    ctl_fd_ = *ctl;
    return {};
  }

  // Serves until the container exits; returns its exit status.
  int serve() {
    auto exit_deadline = std::chrono::steady_clock::time_point::max();
    while (true) {
      bool connected = drain_events();
      if (exit_) {
        // The guest may power off (closing the connection) right after the exit event.
        if (!connected || out_eof_ >= (terminal_ ? 1 : 2) || vmm_exited() ||
            std::chrono::steady_clock::now() > exit_deadline)
          return finish(exit_->host_code());
        if (exit_deadline == std::chrono::steady_clock::time_point::max())
          exit_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
      }
      if (!connected) {
        // A guest that broke the protocol (agent/host_client.h) ends its own VM.
        std::fprintf(stderr, "runvm: lost the connection to the guest agent: %s\n",
                     lost_why_.c_str());
        return finish(kVmLostStatus);
      }
      if (vmm_exited()) {
        std::fprintf(stderr, "runvm: the microVM exited (%s) before the container did\n",
                     vmm_end().c_str());
        return finish(kVmLostStatus);
      }
      if (terminal_ && started_ && !paused_) send_window_size();
      std::vector<pollfd> fds = {{ctl_fd_, POLLIN, 0}, {agent_fd_, POLLIN, 0}};
      bool want_stdin = started_ && stdin_open_ && client_->stdin_credit(handle_) > 0;
      if (want_stdin) fds.push_back({0, POLLIN, 0});
      int n = ::poll(fds.data(), fds.size(), 200);
      if (n < 0 && errno != EINTR) return finish(kVmLostStatus);
      if (n <= 0) continue;
      if (fds[0].revents & POLLIN) serve_control();
      if (want_stdin && fds[2].revents) relay_stdin();
    }
  }

  // Stops the VM; returns `status`.
  int finish(int status) {
    if (attachment_) {
      if (auto ok = attachment_->detach(); !ok)
        std::fprintf(stderr, "runvm: %s\n", ok.error().message.c_str());
    }
    if (ctl_fd_ >= 0) {
      ::close(ctl_fd_);
      ::unlink(l_.control_socket().c_str());
      ctl_fd_ = -1;
    }
    if (agent_fd_ >= 0) ::close(agent_fd_), agent_fd_ = -1;
    if (vmm_ > 0 && !vmm_exited()) {
      ::kill(vmm_, SIGTERM);
      for (int waited = 0; waited < kVmmStopTimeoutMs && !vmm_exited(); waited += 20)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      if (!vmm_exited()) {
        ::kill(vmm_, SIGKILL);
        int ws;
        ::waitpid(vmm_, &ws, 0);
      }
    }
    return status;
  }

 private:
  // A tap for the guest NIC when the container has a network namespace of its own
  // (never in the runtime's: that would bridge the VM into the host's network).
  Status open_nic() {
    if (!plan_.namespaces.wants_nic()) return {};
    auto ino = current_net_ino();
    if (!ino) return ino.error();
    if (plan_.namespaces.runtime_net_ino != 0 && *ino == plan_.namespaces.runtime_net_ino) {
      std::fprintf(stderr,
                   "runvm: the container's network namespace is the runtime's own; "
                   "the VM gets no NIC\n");
      return {};
    }
    auto tap = net::open_tap();
    if (!tap) return tap.error().wrap("guest NIC");
    // A NIC restored from a template has the template's MAC (vm_template.h), so with
    // snapshots every VM offers that one; the agent finds the NIC by it and gives it the
    // container link's MAC.
    guest_mac_ = plan_.settings.snapshots ? kTemplateGuestMac : net::random_guest_mac();
    attachment_.emplace(tap->name, tap->ifindex, guest_mac_);
    tap_ = std::move(*tap);
    return {};
  }

  // Attaches the namespace's link (filled by Docker, CNI or a hook) and configures the
  // guest. Tried after the create hooks (`early`: a namespace with only lo is left for
  // start, which newer Docker fills between create and start) and at start, where only
  // lo means the NIC stays down.
  Status attach_network(bool early) {
    if (!attachment_ || network_sent_) return {};
    auto cfg = attachment_->attach();
    if (!cfg) return cfg.error();
    if (early && !attachment_->attached()) return {};
    if (attachment_->attached()) {
      if (auto ok = record_net_attached(l_, attachment_->link_ifindex()); !ok) return ok;
    }
    if (auto ok = client_->configure_network(*cfg); !ok) return ok.error().wrap("guest network");
    network_sent_ = true;
    return {};
  }

  bool vmm_exited() {
    if (vmm_ <= 0) return false;  // a pod member: the VM is its sandbox's
    if (vmm_done_) return true;
    int ws = 0;
    pid_t r = ::waitpid(vmm_, &ws, WNOHANG);
    if (r == vmm_ || (r < 0 && errno == ECHILD)) {
      vmm_done_ = true;
      vmm_status_ = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
      vmm_signal_ = WIFSIGNALED(ws) ? WTERMSIG(ws) : 0;
    }
    return vmm_done_;
  }

  // How the VMM ended, for messages; a SIGSYS is its seccomp jail (vmm/jail/README.md).
  std::string vmm_end() const {
    if (vmm_signal_ == SIGSYS)
      return "killed by SIGSYS: runvm-vmm made a syscall outside its seccomp allow-list "
             "(the kernel log names it: audit type=1326)";
    if (vmm_signal_ != 0) return std::string("killed by ") + strsignal(vmm_signal_);
    return "status " + std::to_string(vmm_status_);
  }

  // Handles every event available now. False when the agent connection is lost.
  bool drain_events() {
    while (true) {
      auto ev = client_->next_event(0);
      if (!ev) {
        if (ev.error().err == ETIMEDOUT) return true;
        lost_why_ = ev.error().what();
        return false;
      }
      if (auto* d = std::get_if<agent::DataMsg>(&*ev)) {
        if (d->handle != handle_) continue;
        int fd = d->stream == agent::Stream::kStderr ? 2 : 1;
        if (d->bytes.empty()) {
          ++out_eof_;
        } else {
          (void)write_all(fd, d->bytes);  // a closed reader must not stop the container
        }
      } else if (auto* e = std::get_if<agent::ExitEvent>(&*ev)) {
        if (e->process_id == "init") {
          exit_ = e->status;
          trace_.exited = monotonic_ns();
          save_trace();
        }
      }
    }
  }

  // Best effort: the trace only serves `runvm --debug run` and the start benchmark.
  void save_trace() {
    (void)write_file_atomic(l_.start_trace(), to_json(trace_).dump() + "\n", 0644);
  }

  // The guest pty follows our terminal's size (polled: a console-socket pty's
  // SIGWINCH goes to whoever holds the master, not to us).
  void send_window_size() {
    winsize ws{};
    if (::ioctl(1, TIOCGWINSZ, &ws) != 0 || ws.ws_row == 0) return;
    if (ws.ws_row == rows_ && ws.ws_col == cols_) return;
    rows_ = ws.ws_row;
    cols_ = ws.ws_col;
    (void)client_->resize("init", rows_, cols_);
  }

  void relay_stdin() {
    char buf[65536];
    size_t want = std::min<size_t>(sizeof buf, client_->stdin_credit(handle_));
    ssize_t n = ::read(0, buf, want);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
    if (n <= 0) {
      stdin_open_ = false;
      (void)client_->close_stdin("init");
      return;
    }
    if (auto ok = client_->write_stdin(handle_, std::string_view(buf, static_cast<size_t>(n)));
        !ok) {
      stdin_open_ = false;
    }
  }

  void serve_control() {
    int c = ::accept4(ctl_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) return;
    nlohmann::json reply = handle_request(c);
    (void)write_all(c, reply.dump() + "\n");
    ::close(c);
  }

  using Json = nlohmann::json;
  // A control op's handler returns the reply's fields besides "ok".
  using OpResult = Result<Json>;
  // The control ops runvm's commands send (runtime/vm/control.h), one handler each;
  // `while_paused`: also served while the VM is frozen (the rest get EBUSY then).
  struct ControlOp {
    std::string_view name;
    bool while_paused;
    OpResult (Supervisor::*handle)(const Json& req);
  };
  // (A function: the member pointers need the class complete.)
  static std::span<const ControlOp> control_ops() {
    static constexpr ControlOp ops[] = {
        {"start", true, &Supervisor::op_start},   {"net-attach", true, &Supervisor::op_net_attach},
        {"pause", true, &Supervisor::op_pause},   {"resume", true, &Supervisor::op_resume},
        {"signal", true, &Supervisor::op_signal}, {"ps", false, &Supervisor::op_ps},
        {"stats", false, &Supervisor::op_stats},  {"update", false, &Supervisor::op_update},
    };
    return ops;
  }

  Json handle_request(int c) {
    auto fail = [](const Error& e) {
      return Json{{"ok", false}, {"error", e.message}, {"errno", e.err}};
    };
    auto line = read_line(c, 5000);
    if (!line) return fail(line.error());
    Json req = Json::parse(*line, nullptr, false);
    if (!req.is_object() || !req.contains("op") || !req["op"].is_string())
      return fail(Error("malformed control request", EINVAL));
    const std::string op = req["op"];
    const ControlOp* o = nullptr;
    for (const ControlOp& k : control_ops())
      if (k.name == op) o = &k;
    if (!o) return fail(Error("unknown control op \"" + op + "\"", EINVAL));
    if (paused_ && !o->while_paused) return fail(Error("container is paused", EBUSY));
    OpResult r = (this->*o->handle)(req);
    if (!r) return fail(r.error());
    Json reply = std::move(*r);
    reply["ok"] = true;
    return reply;
  }

  OpResult op_start(const Json&) {
    if (started_) return Error("container already started", EBUSY);
    trace_.start_asked = monotonic_ns();
    if (auto ok = attach_network(false); !ok) return ok.error();
    if (auto ok = client_->start(); !ok) return ok.error();
    started_ = true;
    trace_.started = monotonic_ns();
    save_trace();
    return Json::object();
  }

  OpResult op_net_attach(const Json&) {
    if (started_) return Error("container already started", EBUSY);
    if (auto ok = attach_network(true); !ok) return ok.error();
    return Json::object();
  }

  OpResult op_pause(const Json&) {
    if (auto ok = set_paused(true); !ok) return ok.error();
    return Json::object();
  }

  OpResult op_resume(const Json&) {
    if (auto ok = set_paused(false); !ok) return ok.error();
    return Json::object();
  }

  OpResult op_signal(const Json& req) {
    int sig = req.value("signal", 0);
    if (sig < 1 || sig > 64) return Error("bad signal", EINVAL);
    if (paused_) {
      // A frozen guest cannot take a request; SIGKILL still ends the container, as runc's
      // kill does through a frozen cgroup.
      if (sig != SIGKILL) return Error("container is paused", EBUSY);
      ::kill(vmm_, SIGKILL);
      exit_ = agent::ExitStatus{.signaled = true, .code = 0, .signal = SIGKILL};
      return Json::object();
    }
    auto ok = req.value("all", false) ? client_->signal_all(sig) : client_->signal("init", sig);
    if (!ok) return ok.error();
    return Json::object();
  }

  OpResult op_ps(const Json&) {
    auto pids = client_->ps();
    if (!pids) return pids.error();
    return Json{{"pids", *pids}};
  }

  OpResult op_stats(const Json&) {
    // Parsed and checked by the client (agent/stats.h), so only known fields go out.
    auto stats = client_->stats();
    if (!stats) return stats.error();
    return Json{{"stats", agent::to_json(*stats)}};
  }

  OpResult op_update(const Json& req) {
    auto it = req.find("resources");
    if (it == req.end() || !it->is_object()) return Error("resources missing", EINVAL);
    if (auto ok = client_->update(*it); !ok) return ok.error();
    if (auto ok = update_host_side(*it); !ok) return ok.error();
    return Json::object();
  }

  // `runvm update` changes the host cgroup too (cpu, and pids/memory appearing).
  Status update_host_side(const nlohmann::json& resources) {
    if (plan_.cgroup.dir.empty()) return {};
    auto r = oci::resources_from_json(resources);
    if (!r) return r.error().wrap("linux.resources");
    HostCgroup next = plan_.cgroup;
    next.resources = host_cgroup_resources(&*r, plan_.settings.memory_mib, plan_.settings.vcpus,
                                           plan_.cgroup.fs_devices);
    if (auto ok = update_host_cgroup(next); !ok) return ok;
    plan_.cgroup = std::move(next);
    return {};
  }

  // Pause stops every VMM thread (vCPUs and device I/O) with SIGSTOP: the guest's clock
  // and devices freeze with it, as with a frozen cgroup under runc.
  Status set_paused(bool pause) {
    if (plan_.pod.member())
      return Error(
          "pausing one container of a pod is not supported: the pod's containers share "
          "one VM",
          ENOTSUP);
    if (pause == paused_)
      return Error(pause ? "container already paused" : "container not paused", EINVAL);
    if (!started_) return Error("container not running", EINVAL);
    if (vmm_exited()) return Error("the microVM has exited", ESRCH);
    if (::kill(vmm_, pause ? SIGSTOP : SIGCONT) != 0) return Error::from_errno("signal the VMM");
    for (int waited = 0; waited < 2000; waited += 10) {
      if (vmm_reached(pause)) {
        paused_ = pause;
        return {};
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return Error(std::string("the VMM did not ") + (pause ? "stop" : "continue"), EIO);
  }

  // Whether the VMM (our child) stopped or continued. waitid knows it by the pid our own
  // pid namespace gives it; the host's /proc would not. Plain waitpid for its exit never
  // reports these events, so consuming them here takes nothing from it.
  bool vmm_reached(bool stopped) const {
    siginfo_t si{};
    if (::waitid(P_PID, static_cast<id_t>(vmm_), &si,
                 (stopped ? WSTOPPED : WCONTINUED) | WNOHANG) != 0)
      return false;
    return si.si_pid == vmm_ && si.si_code == (stopped ? CLD_STOPPED : CLD_CONTINUED);
  }

  VmLayout l_;
  VmPlan plan_;
  bool paused_ = false;
  bool terminal_ = false;
  uint16_t rows_ = 0, cols_ = 0;
  pid_t vmm_ = -1;
  bool vmm_done_ = false;
  int vmm_status_ = 0;
  int vmm_signal_ = 0;
  std::string lost_why_;  // why the agent connection was given up
  int agent_fd_ = -1;
  int ctl_fd_ = -1;
  std::optional<agent::Client> client_;
  uint32_t handle_ = 0;
  bool started_ = false;
  bool stdin_open_ = true;
  int out_eof_ = 0;
  std::optional<agent::ExitStatus> exit_;
  StartTrace trace_;
  std::optional<net::Tap> tap_;
  std::string guest_mac_;
  std::optional<net::NetAttachment> attachment_;
  bool network_sent_ = false;
};

void report_ready(int fd, const std::string& line) {
  if (fd < 0) return;
  (void)write_all(fd, line + "\n");
  ::close(fd);
}

}  // namespace

int supervise_main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "runvm: %s is internal: started by create\n", kSuperviseCommand);
    return 2;
  }
  ::signal(SIGPIPE, SIG_IGN);
  VmLayout layout(argv[2]);
  int ready = std::atoi(argv[3]);
  if (ready >= 0) ::fcntl(ready, F_SETFD, FD_CLOEXEC);  // the VMM must not hold it
  auto plan = read_plan(layout);
  if (!plan) {
    report_ready(ready, "ERR " + plan.error().message);
    return 1;
  }
  // First the host cgroup, so the VMM and everything after are charged to it, and a new
  // cgroup namespace has it as its root.
  if (!plan->cgroup.dir.empty())
    if (auto ok = enter_host_cgroup(plan->cgroup); !ok) {
      report_ready(ready, "ERR " + ok.error().message);
      return 1;
    }
  // The VMM inherits it: the host's OOM killer weighs the guest's memory as configured.
  if (plan->oom_score_adj)
    if (auto ok = apply_oom_score_adj(*plan->oom_score_adj); !ok) {
      report_ready(ready, "ERR " + ok.error().message);
      return 1;
    }
  // Before the VM and before any hook: /proc/<our pid>/ns/* are the container's.
  if (auto ok = enter_host_namespaces(plan->namespaces); !ok) {
    report_ready(ready, "ERR " + ok.error().message);
    return 1;
  }
  Supervisor sup(layout, *plan);
  if (auto ok = sup.prepare(); !ok) {
    sup.finish(1);
    report_ready(ready, "ERR " + ok.error().message);
    return 1;
  }
  report_ready(ready, "OK");
  return sup.serve();
}

}  // namespace runvm::runtime::vm
