#include "agent/guest_server.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <variant>

#include "agent/spawn.h"
#include "base/monotonic.h"

namespace runvm::agent {
namespace {

using json = nlohmann::json;

// Stop reading process output while a connection has this much unsent: the
// back-pressure that keeps a slow host from growing the agent without bound.
constexpr size_t kMaxConnBacklog = 1u << 20;

struct Conn {
  int fd = -1;
  FrameDecoder dec;
  std::string out;
  bool hello = false;
  bool dead = false;  // close after flushing nothing more
};

struct Proc {
  std::string container;  // the id of the container it belongs to
  std::string id;
  uint32_t handle = 0;
  uint64_t owner = 0;  // connection that created it and receives its stdio and exit event
  bool init = false;
  bool terminal = false;
  Spawned sp;
  std::string in_buf;  // stdin bytes not yet written to the process
  bool close_in_after = false;
  std::optional<ExitStatus> exit;
  std::vector<std::pair<uint64_t, uint64_t>> waiters;  // (connection, request id)
};

// A container of the VM: the first one (created at boot's rootfs) or a pod member.
struct Container {
  Launcher* launcher = nullptr;
  std::unique_ptr<Launcher> owned;  // a pod member's own launcher (none: the first container)
  bool member() const { return owned != nullptr; }
};

// Processes are named by (container id, process id).
using ProcKey = std::pair<std::string, std::string>;

void close_fd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

}  // namespace

struct Server::Impl {
  Launcher& launcher;
  ServerOptions opts;
  bool restored = false;  // `restored` succeeded (opts.on_restored)
  int listen_fd = -1;
  int sig_fd = -1;
  uint64_t next_conn = 1;
  uint32_t next_handle = 1;
  std::map<uint64_t, Conn> conns;
  std::map<ProcKey, Proc> procs;
  std::map<std::string, Container> containers;
  std::string first;  // the VM's own container, once created

  Impl(Launcher& l, ServerOptions o) : launcher(l), opts(std::move(o)) {}

  // ---- output to connections ----
  void send(uint64_t cid, MsgType t, std::string_view body) {
    auto it = conns.find(cid);
    if (it == conns.end() || it->second.dead) return;
    it->second.out += encode_frame(t, body);
  }
  void respond_ok(uint64_t cid, uint64_t id, json result = json::object()) {
    Response r;
    r.id = id;
    r.ok = true;
    r.result = std::move(result);
    send(cid, MsgType::kResponse, encode_response(r));
  }
  void respond_err(uint64_t cid, uint64_t id, const Error& e) {
    Response r;
    r.id = id;
    r.error = e.message;
    r.err = e.err;
    send(cid, MsgType::kResponse, encode_response(r));
  }
  bool owner_backlogged(const Proc& p) {
    auto it = conns.find(p.owner);
    return it != conns.end() && it->second.out.size() > kMaxConnBacklog;
  }

  Proc* find_proc(const std::string& container, const std::string& id) {
    auto it = procs.find(ProcKey{container, id});
    return it == procs.end() ? nullptr : &it->second;
  }
  Proc* find_proc(const ProcKey& k) { return find_proc(k.first, k.second); }

  // The container a request names (empty: the first); `err` when there is none.
  Result<std::string> container_for(const std::string& name, int err) {
    const std::string& n = name.empty() ? first : name;
    if (n.empty() || !containers.count(n))
      return Error(name.empty() ? "no container created" : "no container \"" + name + "\"", err);
    return n;
  }

  // Guest pids of a container's processes. The only container has every descendant of the
  // agent (orphans reparented to PID 1 included); with several, each has the trees of its
  // own processes.
  std::vector<int> container_pids(const std::string& container) {
    if (containers.size() <= 1) return descendant_pids();
    std::set<int> roots;
    for (auto& [k, p] : procs)
      if (k.first == container && !p.exit && p.sp.pid > 0) roots.insert(p.sp.pid);
    return descendant_pids_of(roots);
  }
  Proc* find_handle(uint32_t h) {
    for (auto& [_, p] : procs)
      if (p.handle == h) return &p;
    return nullptr;
  }

  // ---- process stdio ----
  // Reads once from an output fd: 1 forwarded data, 0 nothing to read now,
  // -1 the stream ended (EOF sent to the owner, fd closed).
  int pump_output(Proc& p, int& fd, Stream stream) {
    char buf[kMaxDataChunk];
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return 0;
    if (n <= 0) {  // EOF, or EIO from a pty master whose slave side is gone
      send(p.owner, MsgType::kData, encode_data(DataMsg{p.handle, stream, {}}));
      close_fd(fd);
      if (p.terminal) {  // in_fd and pty_fd are the same pty: it is finished
        p.in_buf.clear();
        close_fd(p.sp.in_fd);
        close_fd(p.sp.pty_fd);
      }
      return -1;
    }
    send(p.owner, MsgType::kData,
         encode_data(DataMsg{p.handle, stream, std::string(buf, static_cast<size_t>(n))}));
    return 1;
  }
  void drain_output(Proc& p) {
    // The process is gone: what it wrote is already buffered, forward all of it
    // before the exit event.
    while (p.sp.out_fd >= 0 && pump_output(p, p.sp.out_fd, Stream::kStdout) == 1) {
    }
    while (p.sp.err_fd >= 0 && pump_output(p, p.sp.err_fd, Stream::kStderr) == 1) {
    }
  }
  void flush_stdin(Proc& p) {
    if (p.sp.in_fd < 0) return;
    while (!p.in_buf.empty()) {
      ssize_t n = ::write(p.sp.in_fd, p.in_buf.data(), p.in_buf.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno == EAGAIN) return;
      size_t done = n < 0 ? p.in_buf.size() : static_cast<size_t>(n);  // EPIPE: drop it
      p.in_buf.erase(0, done);
      send(p.owner, MsgType::kCredit,
           encode_credit(CreditMsg{p.handle, static_cast<uint32_t>(done)}));
      if (n < 0) {
        close_stdin_now(p);
        return;
      }
    }
    if (p.close_in_after) close_stdin_now(p);
  }
  void close_stdin_now(Proc& p) {
    if (!p.in_buf.empty())
      send(p.owner, MsgType::kCredit,
           encode_credit(CreditMsg{p.handle, static_cast<uint32_t>(p.in_buf.size())}));
    p.in_buf.clear();
    p.close_in_after = false;
    close_fd(p.sp.in_fd);
  }

  // ---- children ----
  void reap() {
    for (;;) {
      int ws;
      pid_t pid = waitpid(-1, &ws, WNOHANG);
      if (pid <= 0) return;  // 0: none left exited; -1 ECHILD: no children
      for (auto& [_, p] : procs) {
        if (p.sp.pid != pid || p.exit) continue;
        record_exit(p, ws);
        if (p.init && opts.kill_all_on_init_exit)
          for (int d : container_pids(p.container)) ::kill(d, SIGKILL);
      }
    }
  }

  // A reaped process: its output, then its exit event to the owner and the waiters.
  void record_exit(Proc& p, int ws) {
    p.exit = exit_status_from_wait(ws);
    drain_output(p);
    if (p.sp.in_fd >= 0 && !p.terminal) close_stdin_now(p);
    close_fd(p.sp.hold_fd);
    close_fd(p.sp.status_fd);
    send(p.owner, MsgType::kEvent, encode_exit_event(ExitEvent{p.id, p.handle, *p.exit}));
    for (auto [cid, rid] : p.waiters) respond_ok(cid, rid, json{{"status", to_json(*p.exit)}});
    p.waiters.clear();
  }

  // ---- requests ----
  Result<json> start_process(uint64_t cid, const std::string& container, const std::string& id,
                             const json& spec_json, bool stdin_pipe, bool init) {
    if (Proc* old = find_proc(container, id)) {
      if (!old->exit) return Error("process \"" + id + "\" already exists", EEXIST);
      close_spawned(old->sp);
      procs.erase(ProcKey{container, id});
    }
    auto spec = parse_process_spec(spec_json);
    if (!spec) return spec.error();
    SpawnOptions o;
    o.stdin_pipe = stdin_pipe;
    o.hold = init;
    if (!init) {
      Proc* ip = find_proc(container, std::string(kInitProcessId));
      if (!ip || ip->exit) return Error("the container's process is not running", ESRCH);
      if (ip->sp.hold_fd >= 0) return Error("the container has not been started", EBUSY);
      o.init_pid = ip->sp.pid;
    }
    auto sp = spawn_process(*spec, *containers.at(container).launcher, o);
    if (!sp) return sp.error();
    Proc p;
    p.container = container;
    p.id = id;
    p.handle = next_handle++;
    p.owner = cid;
    p.init = init;
    p.terminal = spec->terminal;
    p.sp = *sp;
    ProcessInfo info{p.handle, p.sp.pid};
    procs.emplace(ProcKey{container, id}, std::move(p));
    return to_json(info);
  }

  // A request's reply: a result now, or none yet (nullopt: a Wait on a running
  // process is answered when it exits).
  using Reply = Result<std::optional<json>>;
  static json done() { return json::object(); }
  // Who asked (connection, request id) and which container the request names.
  struct Ctx {
    uint64_t cid;
    uint64_t id;
    const std::string& container;
  };

  // Dispatch: one handler per request type (std::visit makes a missing one a
  // compile error); an error reply names the operation.
  void handle_request(uint64_t cid, Request& r) {
    Ctx ctx{cid, r.id, r.container_id};
    Reply reply = std::visit([&](auto& body) { return on(ctx, body); }, r.body);
    if (!reply) return respond_err(cid, r.id, reply.error().wrap(std::string(op_name(r.body))));
    if (*reply) respond_ok(cid, r.id, std::move(**reply));
  }

  Reply on(const Ctx&, RestoredReq& r) {
    if (!opts.on_restored) return Error("this VM was not started from a snapshot", ENOTSUP);
    if (restored) return Error("the VM was already told it was restored", EALREADY);
    if (auto s = opts.on_restored(r); !s) return s.error().wrap("restored");
    restored = true;
    return std::optional<json>(done());
  }

  Reply on(const Ctx& x, CreateReq& c) {
    if (opts.on_restored && !restored)
      return Error("a VM started from a snapshot needs `restored` before create", EAGAIN);
    if (containers.count(c.container_id))
      return Error("container \"" + c.container_id + "\" already created", EEXIST);
    Container k;
    if (c.rootfs.empty()) {
      // The VM's own container, on the rootfs mounted at boot: one per VM.
      if (!first.empty()) return Error("container already created", EEXIST);
      k.launcher = &launcher;
    } else {
      // A further container of a pod VM needs the VM's own container first (the sandbox).
      if (first.empty()) return Error("a pod member needs the pod's first container", ENOENT);
      if (!opts.member_launcher) return Error("this agent runs one container per VM", ENOTSUP);
      auto l = opts.member_launcher(c.container_id, c.rootfs);
      if (!l) return l.error();
      k.owned = std::move(*l);
      k.launcher = k.owned.get();
    }
    if (auto s = k.launcher->prepare(c.container_id, c.config); !s) {
      if (k.member()) (void)k.launcher->release();
      return s.error();
    }
    const bool member = k.member();
    containers.emplace(c.container_id, std::move(k));
    auto res = start_process(x.cid, c.container_id, std::string(kInitProcessId),
                             c.config["process"], c.stdin, true);
    if (!res) {
      if (member) (void)containers.at(c.container_id).launcher->release();
      containers.erase(c.container_id);
      return res.error();
    }
    if (!member) first = c.container_id;
    return std::optional<json>(std::move(*res));
  }

  Reply on(const Ctx& x, StartReq&) {
    auto c = container_for(x.container, ENOENT);
    if (!c) return c.error();
    Proc* p = find_proc(*c, std::string(kInitProcessId));
    if (!p) return Error("no container created", ENOENT);
    if (p->sp.hold_fd < 0) return Error("container already started", EBUSY);
    if (auto s = release_hold(p->sp); !s) return s.error();
    return std::optional<json>(done());
  }

  Reply on(const Ctx& x, ExecReq& e) {
    auto c = container_for(x.container, ESRCH);
    if (!c) return Error("the container's process is not running", ESRCH);
    auto res = start_process(x.cid, *c, e.process_id, e.process, e.stdin, false);
    if (!res) return res.error();
    return std::optional<json>(std::move(*res));
  }

  Reply on(const Ctx& x, SignalReq& s) {
    if (s.all) {
      auto c = container_for(x.container, ESRCH);
      for (int pid : c ? container_pids(*c) : descendant_pids()) ::kill(pid, s.signal);
      return std::optional<json>(done());
    }
    Proc* p = process_for(x, s.process_id);
    if (!p) return Error("no process \"" + s.process_id + "\"", ESRCH);
    if (p->exit) return Error("process \"" + s.process_id + "\" has exited", ESRCH);
    if (::kill(p->sp.pid, s.signal) < 0) return Error::from_errno("kill");
    return std::optional<json>(done());
  }

  // A process of the container a request names; null when there is none.
  Proc* process_for(const Ctx& x, const std::string& process_id) {
    auto c = container_for(x.container, ESRCH);
    return c ? find_proc(*c, process_id) : nullptr;
  }

  Reply on(const Ctx& x, CloseStdinReq& c) {
    Proc* p = process_for(x, c.process_id);
    if (!p) return Error("no process \"" + c.process_id + "\"", ESRCH);
    if (p->terminal) {
      // A pty has no half-close: send the EOF character, as a typing user would.
      if (p->sp.in_fd >= 0) p->in_buf += '\x04';
    } else {
      p->close_in_after = true;
    }
    flush_stdin(*p);
    return std::optional<json>(done());
  }

  Reply on(const Ctx& x, ResizeReq& z) {
    Proc* p = process_for(x, z.process_id);
    if (!p) return Error("no process \"" + z.process_id + "\"", ESRCH);
    if (!p->terminal) return Error("process has no terminal", ENOTTY);
    if (p->sp.pty_fd < 0) return Error("terminal is closed", EIO);
    struct winsize ws {};
    ws.ws_row = z.rows;
    ws.ws_col = z.cols;
    if (ioctl(p->sp.pty_fd, TIOCSWINSZ, &ws) < 0) return Error::from_errno("TIOCSWINSZ");
    return std::optional<json>(done());
  }

  Reply on(const Ctx& x, PsReq&) {
    auto c = container_for(x.container, ESRCH);
    if (!c && !x.container.empty()) return c.error();
    return std::optional<json>(json{{"pids", c ? container_pids(*c) : descendant_pids()}});
  }

  Reply on(const Ctx& x, StatsReq&) {
    auto c = container_for(x.container, ESRCH);
    if (!c) return c.error();
    auto s = containers.at(*c).launcher->stats();
    if (!s) return s.error();
    return std::optional<json>(json{{"stats", to_json(*s)}});
  }

  Reply on(const Ctx& x, UpdateReq& u) {
    auto c = container_for(x.container, ESRCH);
    if (!c) return c.error();
    if (auto ok = containers.at(*c).launcher->update(u.resources); !ok) return ok.error();
    return std::optional<json>(done());
  }

  Reply on(const Ctx& x, NetworkReq& n) {
    auto c = container_for(x.container, ESRCH);
    if (!c) return c.error();
    // The network is the VM's: its first container (a pod's sandbox) configures it.
    if (*c != first) return Error("only the VM's first container configures the network", EPERM);
    Proc* ip = find_proc(*c, std::string(kInitProcessId));
    if (ip && ip->sp.hold_fd < 0) return Error("the network is configured before start", EBUSY);
    if (auto ok = launcher.configure_network(n.network); !ok) return ok.error();
    return std::optional<json>(done());
  }

  Reply on(const Ctx& x, WaitReq& w) {
    Proc* p = process_for(x, w.process_id);
    if (!p) return Error("no process \"" + w.process_id + "\"", ESRCH);
    if (p->exit) return std::optional<json>(json{{"status", to_json(*p->exit)}});
    p->waiters.emplace_back(x.cid, x.id);
    return std::optional<json>();  // answered when it exits
  }

  Reply on(const Ctx& x, DestroyReq&) {
    auto c = container_for(x.container, ESRCH);
    if (!c) return c.error();
    if (!containers.at(*c).member())
      return Error("the VM's first container ends with its VM, not by destroy", EPERM);
    const std::string id = *c;
    // Every process of it dies, and is reaped here: its exit goes out as usual.
    for (int pid : container_pids(id)) ::kill(pid, SIGKILL);
    for (auto& [k, p] : procs) {
      if (k.first != id || p.exit || p.sp.pid <= 0) continue;
      int ws = 0;
      while (waitpid(p.sp.pid, &ws, 0) < 0 && errno == EINTR) {
      }
      record_exit(p, ws);
    }
    for (auto it = procs.begin(); it != procs.end();) {
      if (it->first.first == id) {
        close_spawned(it->second.sp);
        it = procs.erase(it);
      } else {
        ++it;
      }
    }
    Status released = containers.at(id).launcher->release();
    containers.erase(id);
    if (!released) return released.error().wrap("container " + id);
    return std::optional<json>(done());
  }

  // Handles one frame; an error drops the connection (it broke the protocol).
  Status handle_frame(uint64_t cid, Conn& c, Frame& f) {
    if (!c.hello) {
      if (f.type != MsgType::kHello) return Error("expected hello first");
      auto h = decode_hello(f.body);
      if (!h) return h.error();
      if (h->min_version > kProtocolVersion || h->max_version < kProtocolVersion)
        return Error("no common protocol version (agent speaks " +
                     std::to_string(kProtocolVersion) + ")");
      c.hello = true;
      HelloReply reply{kProtocolVersion, opts.agent_name, opts.boot};
      if (reply.boot) reply.boot->now = monotonic_ns();
      send(cid, MsgType::kHelloReply, encode_hello_reply(reply));
      return {};
    }
    switch (f.type) {
      case MsgType::kRequest: {
        uint64_t id = 0;
        auto r = decode_request(f.body, &id);
        // A well-framed but invalid request fails only that request.
        if (!r) {
          respond_err(cid, id, r.error());
          return {};
        }
        handle_request(cid, *r);
        return {};
      }
      case MsgType::kData: {
        auto d = decode_data(f.body);
        if (!d) return d.error();
        if (d->stream != Stream::kStdin) return Error("data: host may only send stdin");
        Proc* p = find_handle(d->handle);
        if (!p || p->owner != cid) return Error("data: unknown process handle");
        if (p->in_buf.size() + d->bytes.size() > kInitialStdinCredit)
          return Error("data: stdin beyond the granted credit");
        if (p->sp.in_fd < 0 || p->close_in_after) {
          // Stdin closed: discard, but return the credit so the host is not stuck.
          send(cid, MsgType::kCredit,
               encode_credit(CreditMsg{p->handle, static_cast<uint32_t>(d->bytes.size())}));
          return {};
        }
        p->in_buf += d->bytes;
        flush_stdin(*p);
        return {};
      }
      default:
        return Error("unexpected message type " + std::to_string(static_cast<int>(f.type)));
    }
  }

  void read_conn(uint64_t cid, Conn& c) {
    char buf[65536];
    ssize_t n = ::read(c.fd, buf, sizeof buf);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    if (n <= 0) {
      c.dead = true;
      return;
    }
    c.dec.feed(buf, static_cast<size_t>(n));
    for (;;) {
      auto f = c.dec.next();
      if (!f) {
        c.dead = true;  // out of sync: nothing after this can be trusted
        return;
      }
      if (!*f) return;
      if (auto s = handle_frame(cid, c, **f); !s) {
        c.dead = true;
        return;
      }
      if (c.dead) return;
    }
  }

  void write_conn(Conn& c) {
    while (!c.out.empty()) {
      // write(), not send(): a connection may be a character device (virtio-serial).
      // SIGPIPE is ignored in run().
      ssize_t n = ::write(c.fd, c.out.data(), c.out.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno == EAGAIN) return;
      if (n < 0) {
        c.dead = true;
        return;
      }
      c.out.erase(0, static_cast<size_t>(n));
    }
  }

  void drop_conn(uint64_t cid) {
    auto it = conns.find(cid);
    close_fd(it->second.fd);
    conns.erase(it);
    // Its processes lose their stdio peer: stdin ends, output is read and dropped. An
    // exec'd process also loses the host process that stood for it (runvm exec, or its
    // -d stand-in, killed by SIGKILL, which it cannot forward): it is killed, so nothing
    // keeps running in the container that the host no longer sees.
    for (auto& [_, p] : procs) {
      if (p.owner != cid) continue;
      p.owner = 0;
      if (!p.terminal) close_stdin_now(p);
      if (p.id != kInitProcessId && !p.exit && p.sp.pid > 0) ::kill(p.sp.pid, SIGKILL);
    }
  }

  void accept_conn() {
    int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd >= 0) add(fd);
  }

  void add(int fd) {
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0) fcntl(fd, F_SETFL, fl | O_NONBLOCK);
    fcntl(fd, F_SETFD, FD_CLOEXEC);
    Conn c;
    c.fd = fd;
    conns.emplace(next_conn++, std::move(c));
  }

  void kill_all() {
    for (auto& [_, p] : procs)
      if (!p.exit && p.sp.pid > 0) ::kill(p.sp.pid, SIGKILL);
    for (auto& [_, p] : procs) {
      if (!p.exit && p.sp.pid > 0) {
        int ws;
        while (waitpid(p.sp.pid, &ws, 0) < 0 && errno == EINTR) {
        }
      }
      close_spawned(p.sp);
    }
    procs.clear();
  }

  Status run() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    if (sigprocmask(SIG_BLOCK, &set, nullptr) < 0) return Error::from_errno("block SIGCHLD");
    signal(SIGPIPE, SIG_IGN);
    sig_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    if (sig_fd < 0) return Error::from_errno("signalfd");
    reap();  // children that exited before the fd existed
    enum Kind { kListen, kSig, kConnIn, kOut, kErr, kIn };
    for (;;) {
      for (auto it = conns.begin(); it != conns.end();) {
        auto next = std::next(it);
        if (it->second.dead) drop_conn(it->first);
        it = next;
      }
      if (listen_fd < 0 && conns.empty()) break;
      if (listen_fd >= 0 && conns.empty() && !opts.keep_running) break;
      std::vector<pollfd> pfds;
      struct Who {
        Kind kind;
        uint64_t conn;  // kConnIn
        ProcKey proc;   // kOut, kErr, kIn
      };
      std::vector<Who> who;
      auto add_pfd = [&](int fd, short ev, Kind k, uint64_t conn = 0, ProcKey key = {}) {
        pfds.push_back(pollfd{fd, ev, 0});
        who.push_back(Who{k, conn, std::move(key)});
      };
      if (listen_fd >= 0) add_pfd(listen_fd, POLLIN, kListen);
      add_pfd(sig_fd, POLLIN, kSig);
      for (auto& [cid, c] : conns)
        add_pfd(c.fd, static_cast<short>(POLLIN | (c.out.empty() ? 0 : POLLOUT)), kConnIn, cid);
      for (auto& [id, p] : procs) {
        bool can_read = !owner_backlogged(p);
        if (p.sp.out_fd >= 0 && can_read) add_pfd(p.sp.out_fd, POLLIN, kOut, 0, id);
        if (p.sp.err_fd >= 0 && can_read) add_pfd(p.sp.err_fd, POLLIN, kErr, 0, id);
        if (p.sp.in_fd >= 0 && !p.in_buf.empty()) add_pfd(p.sp.in_fd, POLLOUT, kIn, 0, id);
      }
      int n = poll(pfds.data(), pfds.size(), -1);
      if (n < 0) {
        if (errno == EINTR) continue;
        return Error::from_errno("poll");
      }
      for (size_t i = 0; i < pfds.size(); ++i) {
        short rev = pfds[i].revents;
        if (!rev) continue;
        const Kind kind = who[i].kind;
        const ProcKey& key = who[i].proc;
        switch (kind) {
          case kListen:
            accept_conn();
            break;
          case kSig: {
            signalfd_siginfo si;
            while (::read(sig_fd, &si, sizeof si) == sizeof si) {
            }
            reap();
            break;
          }
          case kConnIn: {
            auto it = conns.find(who[i].conn);
            if (it == conns.end()) break;
            if (rev & POLLOUT) write_conn(it->second);
            if (rev & (POLLIN | POLLHUP | POLLERR)) read_conn(it->first, it->second);
            break;
          }
          case kOut:
          case kErr: {
            Proc* p = find_proc(key);
            if (!p) break;
            int& fd = kind == kOut ? p->sp.out_fd : p->sp.err_fd;
            if (fd == pfds[i].fd)
              pump_output(*p, fd, kind == kOut ? Stream::kStdout : Stream::kStderr);
            break;
          }
          case kIn: {
            Proc* p = find_proc(key);
            if (p && p->sp.in_fd == pfds[i].fd) {
              if (rev & POLLERR)
                close_stdin_now(*p);
              else
                flush_stdin(*p);
            }
            break;
          }
        }
      }
      // Flush what the handlers queued right away; poll picks up the rest.
      for (auto& [_, c] : conns)
        if (!c.out.empty() && !c.dead) write_conn(c);
    }
    kill_all();
    return {};
  }
};

Server::Server(Launcher& launcher, ServerOptions opts)
    : impl_(std::make_unique<Impl>(launcher, std::move(opts))) {}

Server::~Server() {
  for (auto& [_, c] : impl_->conns) close_fd(c.fd);
  close_fd(impl_->listen_fd);
  close_fd(impl_->sig_fd);
  for (auto& [_, p] : impl_->procs) close_spawned(p.sp);
}

void Server::add_connection(int fd) {
  impl_->add(fd);
}
void Server::set_listener(int fd) {
  fcntl(fd, F_SETFD, FD_CLOEXEC);
  impl_->listen_fd = fd;
}
Status Server::run() {
  return impl_->run();
}

namespace {
// Parent of every process in /proc.
std::map<int, int> process_parents() {
  std::map<int, int> parent;
  if (DIR* d = opendir("/proc")) {
    while (dirent* e = readdir(d)) {
      char* end;
      long pid = strtol(e->d_name, &end, 10);
      if (*end || pid <= 0) continue;
      std::ifstream f(std::string("/proc/") + e->d_name + "/stat");
      std::string s((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
      // "pid (comm) state ppid ...": comm may hold spaces and ')', so parse from the last ')'.
      size_t rp = s.rfind(')');
      if (rp == std::string::npos) continue;
      std::istringstream rest(s.substr(rp + 1));
      std::string state;
      int ppid = 0;
      if (rest >> state >> ppid) parent[static_cast<int>(pid)] = ppid;
    }
    closedir(d);
  }
  return parent;
}

// `roots` (those alive) and their descendants.
std::set<int> trees_of(const std::set<int>& roots, const std::map<int, int>& parent) {
  std::set<int> mine;
  for (int r : roots)
    if (parent.count(r)) mine.insert(r);
  // Parents may have higher pids than children (pid wrap), so iterate to a fixpoint.
  for (bool grew = true; grew;) {
    grew = false;
    for (auto [pid, pp] : parent)
      if (mine.count(pp) && mine.insert(pid).second) grew = true;
  }
  return mine;
}
}  // namespace

std::vector<int> descendant_pids() {
  auto parent = process_parents();
  parent[getpid()] = 0;  // a root even when /proc is not ours (tests in a pid namespace)
  std::set<int> mine = trees_of({getpid()}, parent);
  mine.erase(getpid());
  return {mine.begin(), mine.end()};
}

std::vector<int> descendant_pids_of(const std::set<int>& roots) {
  std::set<int> mine = trees_of(roots, process_parents());
  return {mine.begin(), mine.end()};
}

}  // namespace runvm::agent
