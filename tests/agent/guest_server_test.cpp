// The agent server driven through the client over a socketpair, with real
// fork/exec of /bin/sh: output bytes, exit codes and signals, stdin with EOF and
// flow control, exec, terminals and resize, ps, orphan reaping, bad peers.
// The server runs in a forked child, single-threaded, like the guest agent.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "agent/guest_server.h"
#include "agent/host_client.h"

namespace runvm::agent {
namespace {

using json = nlohmann::json;

json proc(std::vector<std::string> args, std::string cwd = "/") {
  return json{
      {"args", args}, {"env", {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "FOO=bar"}}, {"cwd", cwd}};
}
json config(json process) {
  return json{{"ociVersion", "1.2.0"}, {"root", {{"path", "rootfs"}}}, {"process", process}};
}

struct Collected {
  std::string out, err;
  std::optional<ExitStatus> status;
};

class AgentServer : public ::testing::Test {
 protected:
  void SetUp() override {
    int sv[2], sv2[2];
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv2), 0);
    server_pid_ = fork();
    ASSERT_GE(server_pid_, 0);
    if (server_pid_ == 0) {
      close(sv[0]);
      close(sv2[0]);
      // Orphans of the container come back to the agent, as they do to PID 1.
      prctl(PR_SET_CHILD_SUBREAPER, 1);
      HostLauncher launcher;
      ServerOptions o;
      o.keep_running = false;
      o.boot = GuestBootTimes{.now = 0, .init = 10, .modules = 20, .rootfs = 30, .listen = 40};
      // Pod members are plain processes too.
      o.member_launcher = [](const std::string&,
                             const std::string&) -> Result<std::unique_ptr<Launcher>> {
        return std::unique_ptr<Launcher>(std::make_unique<HostLauncher>());
      };
      Server s(launcher, o);
      s.add_connection(sv[1]);
      s.add_connection(sv2[1]);
      _exit(s.run() ? 0 : 1);
    }
    close(sv[1]);
    close(sv2[1]);
    fd_ = sv[0];
    second_fd_ = sv2[0];
    client_ = std::make_unique<Client>(fd_);
    auto h = client_->hello();
    ASSERT_TRUE(h) << h.error().message;
    EXPECT_EQ(h->version, kProtocolVersion);
    // The boot steps come with the hello, stamped with the agent's clock as it answered.
    ASSERT_TRUE(h->boot);
    EXPECT_EQ(h->boot->listen, 40u);
    EXPECT_EQ(h->boot->init, 10u);
    EXPECT_GT(h->boot->now, 1000u);
  }
  void TearDown() override {
    client_.reset();
    if (fd_ >= 0) close(fd_);
    if (second_fd_ >= 0) close(second_fd_);
    if (server_pid_ > 0) {
      int ws = 0;
      ASSERT_EQ(waitpid(server_pid_, &ws, 0), server_pid_);
      EXPECT_TRUE(WIFEXITED(ws) && WEXITSTATUS(ws) == 0) << "server status " << ws;
    }
  }

  // Reads events for `handle` until its streams hit EOF and it exited.
  Collected collect(uint32_t handle, bool terminal = false) {
    return collect_from(*client_, handle, terminal);
  }
  Collected collect_from(Client& client, uint32_t handle, bool terminal = false) {
    Collected c;
    bool out_eof = false, err_eof = terminal;
    while (!(out_eof && err_eof && c.status)) {
      auto e = client.next_event(10000);
      if (!e) {
        ADD_FAILURE() << e.error().message;
        return c;
      }
      if (auto* d = std::get_if<DataMsg>(&*e)) {
        if (d->handle != handle) continue;
        bool& eof = d->stream == Stream::kStdout ? out_eof : err_eof;
        if (d->bytes.empty()) eof = true;
        (d->stream == Stream::kStdout ? c.out : c.err) += d->bytes;
      } else if (auto* x = std::get_if<ExitEvent>(&*e)) {
        if (x->handle == handle) c.status = x->status;
      }
    }
    return c;
  }

  // Reads stdout of `handle` until it contains `what`.
  std::string read_until(uint32_t handle, const std::string& what) {
    std::string out;
    while (out.find(what) == std::string::npos) {
      auto e = client_->next_event(10000);
      if (!e) {
        ADD_FAILURE() << "waiting for \"" << what << "\", got \"" << out
                      << "\": " << e.error().message;
        return out;
      }
      if (auto* d = std::get_if<DataMsg>(&*e); d && d->handle == handle) out += d->bytes;
    }
    return out;
  }

  ProcessInfo create_started(json process, bool stdin = false) {
    auto p = client_->create("c1", config(std::move(process)), stdin);
    EXPECT_TRUE(p) << p.error().message;
    auto s = client_->start();
    EXPECT_TRUE(s) << s.error().message;
    return p ? *p : ProcessInfo{};
  }

  pid_t server_pid_ = -1;
  int fd_ = -1;
  int second_fd_ = -1;  // another host connection (as runvm exec opens one)
  std::unique_ptr<Client> client_;
};

TEST_F(AgentServer, RunsAProcessAndReportsOutputAndExitCode) {
  auto p = create_started(proc({"/bin/sh", "-c", "echo hi; echo oops >&2; exit 3"}));
  auto c = collect(p.handle);
  EXPECT_EQ(c.out, "hi\n");
  EXPECT_EQ(c.err, "oops\n");
  ASSERT_TRUE(c.status);
  EXPECT_FALSE(c.status->signaled);
  EXPECT_EQ(c.status->code, 3);
  auto w = client_->wait("init");
  ASSERT_TRUE(w) << w.error().message;
  EXPECT_EQ(w->host_code(), 3);
}

TEST_F(AgentServer, HoldsTheProcessUntilStart) {
  auto p = client_->create("c1", config(proc({"/bin/sh", "-c", "echo started"})));
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_GT(p->pid, 0);
  auto early = client_->next_event(300);
  ASSERT_FALSE(early) << "output before start";
  EXPECT_EQ(early.error().err, ETIMEDOUT);
  auto pids = client_->ps();
  ASSERT_TRUE(pids) << pids.error().message;
  EXPECT_NE(std::find(pids->begin(), pids->end(), p->pid), pids->end());
  auto again = client_->create("c1", config(proc({"/bin/true"})));
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().err, EEXIST);
  ASSERT_TRUE(client_->start());
  auto c = collect(p->handle);
  EXPECT_EQ(c.out, "started\n");
  ASSERT_TRUE(c.status);
  EXPECT_EQ(c.status->code, 0);
  auto twice = client_->start();
  EXPECT_FALSE(twice);
}

TEST_F(AgentServer, SigtermIsReportedAsSignal15) {
  auto p = create_started(proc({"sleep", "100"}));
  ASSERT_TRUE(client_->signal("init", SIGTERM));
  auto c = collect(p.handle);
  ASSERT_TRUE(c.status);
  EXPECT_TRUE(c.status->signaled);
  EXPECT_EQ(c.status->signal, 15);
  EXPECT_EQ(c.status->host_code(), 143);
  auto late = client_->signal("init", SIGTERM);
  ASSERT_FALSE(late);
  EXPECT_EQ(late.error().err, ESRCH);
}

TEST_F(AgentServer, StdinBytesAndEofReachTheProcess) {
  auto p = create_started(proc({"/bin/sh", "-c", "cat; echo done"}), /*stdin=*/true);
  ASSERT_TRUE(client_->write_stdin(p.handle, "hello\nworld"));
  ASSERT_TRUE(client_->close_stdin("init"));
  auto c = collect(p.handle);
  EXPECT_EQ(c.out, "hello\nworlddone\n");
  ASSERT_TRUE(c.status);
  EXPECT_EQ(c.status->code, 0);
}

TEST_F(AgentServer, LargeStdinFlowsUnderCredit) {
  // Four times the window: only works if the agent returns credit as it writes.
  auto p = create_started(proc({"/bin/sh", "-c", "wc -c"}), true);
  std::string big(4 * kInitialStdinCredit, 'z');
  ASSERT_TRUE(client_->write_stdin(p.handle, big));
  ASSERT_TRUE(client_->close_stdin("init"));
  auto c = collect(p.handle);
  EXPECT_EQ(std::stoul(c.out), big.size());
}

TEST_F(AgentServer, WithoutStdinTheProcessReadsEof) {
  auto p = create_started(proc({"/bin/sh", "-c", "cat; echo eof"}));
  auto c = collect(p.handle);
  EXPECT_EQ(c.out, "eof\n");
}

TEST_F(AgentServer, ExecsASecondProcessWithEnvAndCwd) {
  auto init = create_started(proc({"sleep", "100"}));
  auto e = client_->exec("e1", proc({"/bin/sh", "-c", "echo $FOO; pwd; exit 7"}, "/tmp"));
  ASSERT_TRUE(e) << e.error().message;
  EXPECT_NE(e->handle, init.handle);
  auto c = collect(e->handle);
  EXPECT_EQ(c.out, "bar\n/tmp\n");
  ASSERT_TRUE(c.status);
  EXPECT_EQ(c.status->code, 7);
  auto w = client_->wait("e1");
  ASSERT_TRUE(w);
  EXPECT_EQ(w->code, 7);
  // The id of an exited process can be reused.
  auto e2 = client_->exec("e1", proc({"/bin/true"}));
  ASSERT_TRUE(e2) << e2.error().message;
  EXPECT_EQ(collect(e2->handle).status->code, 0);
  ASSERT_TRUE(client_->signal("init", SIGKILL));
  auto ci = collect(init.handle);
  ASSERT_TRUE(ci.status);
  EXPECT_EQ(ci.status->host_code(), 137);
}

TEST_F(AgentServer, InitExitStopsTheWholeContainer) {
  auto init = create_started(proc({"sleep", "100"}));
  auto e = client_->exec("e1", proc({"sleep", "100"}));
  ASSERT_TRUE(e) << e.error().message;
  ASSERT_TRUE(client_->signal("init", SIGTERM));
  auto w = client_->wait("e1");
  ASSERT_TRUE(w) << w.error().message;
  EXPECT_TRUE(w->signaled);
  EXPECT_EQ(w->signal, SIGKILL);
  auto wi = client_->wait("init");
  ASSERT_TRUE(wi);
  EXPECT_EQ(wi->host_code(), 143);
  (void)init;
}

TEST_F(AgentServer, ExecBeforeStartAndOfAMissingProgramFail) {
  ASSERT_TRUE(client_->create("c1", config(proc({"sleep", "100"}))));
  auto early = client_->exec("e1", proc({"/bin/true"}));
  ASSERT_FALSE(early);
  EXPECT_EQ(early.error().err, EBUSY);
  ASSERT_TRUE(client_->start());
  auto missing = client_->exec("e2", proc({"/nonexistent/prog"}));
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().err, ENOENT);
  EXPECT_NE(missing.error().message.find("/nonexistent/prog"), std::string::npos);
  auto nopath = client_->exec("e3", proc({"no-such-program-anywhere"}));
  ASSERT_FALSE(nopath);
  EXPECT_NE(nopath.error().message.find("not found in PATH"), std::string::npos);
  auto badcwd = client_->exec("e4", proc({"/bin/true"}, "/nonexistent-dir"));
  ASSERT_FALSE(badcwd);
  EXPECT_NE(badcwd.error().message.find("chdir /nonexistent-dir"), std::string::npos);
  ASSERT_TRUE(client_->signal_all(SIGKILL));
  auto w = client_->wait("init");
  ASSERT_TRUE(w);
  EXPECT_EQ(w->signal, SIGKILL);
}

TEST_F(AgentServer, TerminalProcessSeesATtyAndResizes) {
  json p = proc({"/bin/sh", "-c", "[ -t 0 ] && echo tty; stty size; read x; stty size"});
  p["terminal"] = true;
  p["consoleSize"] = {{"height", 24}, {"width", 80}};
  auto info = create_started(p, true);
  std::string out = read_until(info.handle, "24 80");
  EXPECT_NE(out.find("tty"), std::string::npos);
  ASSERT_TRUE(client_->resize("init", 50, 132));
  ASSERT_TRUE(client_->write_stdin(info.handle, "\n"));
  auto c = collect(info.handle, /*terminal=*/true);
  EXPECT_NE(c.out.find("50 132"), std::string::npos) << c.out;
  EXPECT_TRUE(c.err.empty());
  ASSERT_TRUE(c.status);
  EXPECT_EQ(c.status->code, 0);
}

TEST_F(AgentServer, ResizeOfANonTerminalFails) {
  create_started(proc({"sleep", "100"}));
  auto r = client_->resize("init", 10, 10);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().err, ENOTTY);
  ASSERT_TRUE(client_->signal("init", SIGKILL));
}

TEST_F(AgentServer, PsListsDescendantsAndOrphansAreReaped) {
  auto p = create_started(proc({"/bin/sh", "-c", "sleep 1.5 & echo $!; exec sleep 100"}));
  std::string out = read_until(p.handle, "\n");
  int grandchild = std::stoi(out);
  auto pids = client_->ps();
  ASSERT_TRUE(pids);
  EXPECT_NE(std::find(pids->begin(), pids->end(), grandchild), pids->end());
  EXPECT_NE(std::find(pids->begin(), pids->end(), p.pid), pids->end());
  // Kill the parent: the background sleep becomes the agent's orphan.
  ASSERT_TRUE(client_->signal("init", SIGKILL));
  auto w = client_->wait("init");
  ASSERT_TRUE(w);
  bool gone = false;
  for (int i = 0; i < 160 && !gone; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    struct stat st;
    gone = stat(("/proc/" + std::to_string(grandchild)).c_str(), &st) != 0;
  }
  EXPECT_TRUE(gone) << "orphan " << grandchild << " was not reaped";
}

TEST_F(AgentServer, InvalidRequestFailsOnlyThatRequest) {
  std::string bad = R"({"id":42,"op":"signal","process_id":"init","signal":99})";
  ASSERT_TRUE(write_all(fd_, encode_frame(MsgType::kRequest, bad)));
  auto f = read_frame(fd_);
  ASSERT_TRUE(f);
  ASSERT_EQ(f->type, MsgType::kResponse);
  auto r = decode_response(f->body);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->id, 42u);
  EXPECT_FALSE(r->ok);
  EXPECT_NE(r->error.find("signal"), std::string::npos);
  auto pids = client_->ps();  // the connection still works
  EXPECT_TRUE(pids);
}

TEST_F(AgentServer, ProtocolViolationDropsTheConnection) {
  // Stdin for a handle that does not exist breaks the protocol, not one request.
  ASSERT_TRUE(write_all(fd_, encode_frame(MsgType::kData, encode_data({99, Stream::kStdin, "x"}))));
  auto f = read_frame(fd_);
  ASSERT_FALSE(f);
  EXPECT_NE(f.error().message.find("closed"), std::string::npos);
}

TEST_F(AgentServer, StatsAndUpdateAreTheLaunchersBusiness) {
  // Before create there is no container to ask about.
  auto early = client_->stats();
  ASSERT_FALSE(early);
  EXPECT_EQ(early.error().err, ESRCH);
  create_started(proc({"sleep", "100"}));
  // HostLauncher has no cgroup of its own: a clean ENOTSUP, and the connection lives on.
  auto stats = client_->stats();
  ASSERT_FALSE(stats);
  EXPECT_EQ(stats.error().err, ENOTSUP);
  auto update = client_->update(json{{"pids", {{"limit", 5}}}});
  ASSERT_FALSE(update);
  EXPECT_EQ(update.error().err, ENOTSUP);
  EXPECT_TRUE(client_->ps());
  ASSERT_TRUE(client_->signal("init", SIGKILL));
}

TEST_F(AgentServer, ExecProcessDiesWithItsConnection) {
  create_started(proc({"sleep", "100"}));
  Client other(second_fd_);
  ASSERT_TRUE(other.hello());
  auto e = other.exec("exec-1", proc({"sleep", "100"}));
  ASSERT_TRUE(e) << e.error().message;
  // The host side of the exec goes away without a word (SIGKILL of runvm exec).
  close(second_fd_);
  second_fd_ = -1;
  auto w = client_->wait("exec-1");
  ASSERT_TRUE(w) << w.error().message;
  EXPECT_TRUE(w->signaled);
  EXPECT_EQ(w->signal, SIGKILL);
  // The container itself goes on, without the exec'd process.
  auto pids = client_->ps();
  ASSERT_TRUE(pids);
  EXPECT_EQ(std::find(pids->begin(), pids->end(), e->pid), pids->end())
      << "exec'd pid still listed";
  EXPECT_EQ(pids->size(), 1u);
  ASSERT_TRUE(client_->signal("init", SIGKILL));
}

bool has(const std::vector<int>& pids, int pid) {
  return std::find(pids.begin(), pids.end(), pid) != pids.end();
}

TEST_F(AgentServer, APodMemberIsAContainerOfItsOwn) {
  auto sandbox = create_started(proc({"sleep", "100"}));
  Client member(second_fd_);
  ASSERT_TRUE(member.hello());
  auto m = member.create_in_pod("m1", config(proc({"sleep", "100"})), "/");
  ASSERT_TRUE(m) << m.error().message;
  ASSERT_TRUE(member.start());
  // Its processes have their own ids ("init" again) and run beside the first container's.
  auto e = member.exec("e1", proc({"/bin/sh", "-c", "echo in member"}));
  ASSERT_TRUE(e) << e.error().message;
  auto c = collect_from(member, e->handle);
  EXPECT_EQ(c.out, "in member\n");
  auto first_ps = client_->ps();
  auto member_ps = member.ps();
  ASSERT_TRUE(first_ps && member_ps);
  EXPECT_TRUE(has(*first_ps, sandbox.pid));
  EXPECT_FALSE(has(*first_ps, m->pid));
  EXPECT_TRUE(has(*member_ps, m->pid));
  EXPECT_FALSE(has(*member_ps, sandbox.pid));
  // A second create of the same id, or of the first container's, is refused.
  auto again = member.create_in_pod("m1", config(proc({"sleep", "1"})), "/");
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().err, EEXIST);
  // kill --all of the member leaves the first container alone.
  member.address("m1");
  ASSERT_TRUE(member.signal_all(SIGKILL));
  auto w = member.wait("init");
  ASSERT_TRUE(w) << w.error().message;
  EXPECT_EQ(w->host_code(), 137);
  auto still = client_->ps();
  ASSERT_TRUE(still);
  EXPECT_TRUE(has(*still, sandbox.pid));
  // destroy removes it; the first container cannot be destroyed.
  ASSERT_TRUE(member.destroy());
  auto gone = member.ps();
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().err, ESRCH);
  auto refused = client_->destroy();
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().err, EPERM);
  ASSERT_TRUE(client_->signal("init", SIGKILL));
}

TEST_F(AgentServer, DestroyKillsAMembersProcessesAndReportsTheirExit) {
  create_started(proc({"sleep", "100"}));
  Client member(second_fd_);
  ASSERT_TRUE(member.hello());
  auto m = member.create_in_pod("m1", config(proc({"sleep", "100"})), "/");
  ASSERT_TRUE(m) << m.error().message;
  ASSERT_TRUE(member.start());
  auto e = member.exec("e1", proc({"sleep", "100"}));
  ASSERT_TRUE(e);
  ASSERT_TRUE(member.destroy());
  auto c = collect_from(member, m->handle);
  ASSERT_TRUE(c.status);
  EXPECT_EQ(c.status->host_code(), 137);
  auto pids = client_->ps();
  ASSERT_TRUE(pids);
  EXPECT_FALSE(has(*pids, e->pid));
  EXPECT_FALSE(has(*pids, m->pid));
  // The id is free again.
  auto again = member.create_in_pod("m1", config(proc({"/bin/true"})), "/");
  EXPECT_TRUE(again) << again.error().message;
  ASSERT_TRUE(client_->signal("init", SIGKILL));
}

TEST_F(AgentServer, APodMemberNeedsTheFirstContainer) {
  auto early = client_->create_in_pod("m1", config(proc({"/bin/true"})), "/");
  ASSERT_FALSE(early);
  EXPECT_EQ(early.error().err, ENOENT);
  create_started(proc({"sleep", "100"}));
  ASSERT_TRUE(client_->signal("init", SIGKILL));
}

TEST(AgentServerHandshake, RejectsRequestsBeforeHelloAndWrongVersions) {
  for (int variant = 0; variant < 2; ++variant) {
    int sv[2];
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    pid_t pid = fork();
    if (pid == 0) {
      close(sv[0]);
      HostLauncher l;
      ServerOptions o;
      o.keep_running = false;
      Server s(l, o);
      s.add_connection(sv[1]);
      _exit(s.run() ? 0 : 1);
    }
    close(sv[1]);
    std::string first = variant == 0 ? encode_frame(MsgType::kRequest, R"({"id":1,"op":"ps"})")
                                     : encode_frame(MsgType::kHello, encode_hello(Hello{7, 9}));
    ASSERT_TRUE(write_all(sv[0], first));
    auto f = read_frame(sv[0]);
    EXPECT_FALSE(f) << "variant " << variant;
    close(sv[0]);
    int ws;
    ASSERT_EQ(waitpid(pid, &ws, 0), pid);
    EXPECT_TRUE(WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
  }
}

}  // namespace
}  // namespace runvm::agent
