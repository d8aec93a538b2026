// cri-client: a small Kubernetes CRI v1 client for the e2e tests (crictl is not packaged in
// Debian 12). It drives a runtime's CRI RuntimeService over a unix socket the way the kubelet
// would (pod sandbox, containers, exec) and prints one value per line so that shell scenarios can
// parse the results. Usage: see kUsage below; README.md next to this file has the background.
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <exception>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "cri.grpc.pb.h"

namespace {

namespace cri = runtime::v1;
using std::chrono::seconds;

constexpr char kUsage[] =
    R"(usage: cri-client [--endpoint SOCKET] [--timeout SECONDS] COMMAND [ARGS]
Calls the CRI v1 RuntimeService on unix socket SOCKET (default /run/containerd/containerd.sock),
giving each call SECONDS (default 120) to complete.
  runp --name N --uid U --namespace NS [--handler H] [--hostname HN] [--log-dir D]
       [--cgroup-parent P] [--annotation K=V]... [--label K=V]...    -> pod sandbox id
  create --pod POD --name N --image IMG [--log-path P] [--workdir D] [--pid-mode pod] [--env K=V]...
       [--mount HOST:CONTAINER[:ro]]... [--annotation K=V]... [--label K=V]...
       [--sandbox-name N --sandbox-uid U --sandbox-namespace NS --sandbox-log-dir D ...]
       [-- COMMAND ARGS...]                                           -> container id
       (--sandbox-X repeats runp's --X: the runtime is handed the pod's config again)
  start ID | stop ID [--timeout S] | rm ID | stopp POD | rmp POD
  inspectp POD          -> state=READY|NOTREADY, ip=IP
  inspect ID            -> state=CREATED|RUNNING|EXITED|UNKNOWN, exit_code=N, reason=R, message=M
  ps [--pod POD]        -> "ID STATE POD" per container
  exec ID [--timeout S] -- CMD ARGS...   relays CMD's stdout/stderr, exits with its exit code
)";

// One subcommand's arguments: positionals, repeatable "--key value" options, words after "--".
struct Args {
  std::vector<std::string> pos;
  std::multimap<std::string, std::string> opts;
  std::vector<std::string> rest;

  std::string Get(const std::string& key) const {
    auto it = opts.find(key);
    return it == opts.end() ? "" : it->second;
  }
  std::vector<std::string> All(const std::string& key) const {
    std::vector<std::string> v;
    for (auto [it, end] = opts.equal_range(key); it != end; ++it) v.push_back(it->second);
    return v;
  }
};

struct Env {
  std::unique_ptr<cri::RuntimeService::Stub> stub;
  seconds timeout{120};
};

int UsageError(const std::string& msg) {
  std::cerr << "cri-client: " << msg << " (see cri-client --help)\n";
  return 2;
}

std::optional<int64_t> ParseSeconds(const std::string& s) {
  int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || v < 0) return std::nullopt;
  return v;
}

const char* CodeName(grpc::StatusCode code) {
  // clang-format off
  static constexpr const char* kNames[] = {
      "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
      "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
      "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS",
      "UNAUTHENTICATED"};
  // clang-format on
  const auto i = static_cast<size_t>(code);
  return i < std::size(kNames) ? kNames[i] : "?";
}

using Stub = cri::RuntimeService::Stub;
template <typename Req, typename Resp>
using Method = grpc::Status (Stub::*)(grpc::ClientContext*, const Req&, Resp*);

// A ClientContext serves exactly one call, so every RPC gets its own, with its own deadline.
// `waits` is how long the call itself may legitimately take (stop grace period, exec timeout);
// it comes on top of the deadline so that --timeout only bounds the runtime's own work.
template <typename Req, typename Resp>
bool Call(Env& env, const char* what, Method<Req, Resp> method, const Req& req, Resp* resp,
          int64_t waits = 0) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + env.timeout + seconds(waits));
  const grpc::Status st = (env.stub.get()->*method)(&ctx, req, resp);
  if (st.ok()) return true;
  std::cerr << "cri-client: " << what << ": " << CodeName(st.error_code()) << " ("
            << static_cast<int>(st.error_code()) << "): " << st.error_message() << "\n";
  return false;
}

// Enum names without their prefix ("CONTAINER_RUNNING" -> "RUNNING"); values newer than our
// proto have no name.
std::string StateName(const std::string& full, size_t prefix) {
  return full.size() > prefix ? full.substr(prefix) : "UNKNOWN";
}

bool Require(const Args& a, std::initializer_list<const char*> keys) {
  for (const char* k : keys) {
    if (a.Get(k).empty()) {
      UsageError(std::string("missing --") + k);
      return false;
    }
  }
  return true;
}

// Hands each K=V value of a repeatable option to sink(K, V), in command-line order.
template <typename Sink>
bool ForPairs(const Args& a, const std::string& key, Sink sink) {
  for (const std::string& kv : a.All(key)) {
    const size_t eq = kv.find('=');
    if (eq == std::string::npos) return UsageError("--" + key + " wants K=V, got " + kv), false;
    sink(kv.substr(0, eq), kv.substr(eq + 1));
  }
  return true;
}

bool AddPairs(const Args& a, const std::string& key,
              google::protobuf::Map<std::string, std::string>* m) {
  return ForPairs(a, key, [m](const std::string& k, const std::string& v) { (*m)[k] = v; });
}

// runp and create read the pod config from the same option names (create's with a "sandbox-"
// prefix), so create can pass the runtime the very config the pod was started with.
const std::vector<std::string> kPodOpts = {"name",    "uid",           "namespace",  "hostname",
                                           "log-dir", "cgroup-parent", "annotation", "label"};

bool PodConfig(const Args& a, const std::string& p, cri::PodSandboxConfig* c) {
  auto* md = c->mutable_metadata();
  md->set_name(a.Get(p + "name"));
  md->set_uid(a.Get(p + "uid"));
  md->set_namespace_(a.Get(p + "namespace"));
  c->set_hostname(a.Get(p + "hostname"));
  c->set_log_directory(a.Get(p + "log-dir"));
  if (const std::string cg = a.Get(p + "cgroup-parent"); !cg.empty()) {
    c->mutable_linux()->set_cgroup_parent(cg);
  }
  return AddPairs(a, p + "annotation", c->mutable_annotations()) &&
         AddPairs(a, p + "label", c->mutable_labels());
}

int RunPod(Env& env, const Args& a) {
  if (!Require(a, {"name", "uid", "namespace"})) return 2;
  cri::RunPodSandboxRequest req;
  cri::RunPodSandboxResponse resp;
  if (!PodConfig(a, "", req.mutable_config())) return 2;
  req.set_runtime_handler(a.Get("handler"));  // empty: the runtime's default handler
  if (!Call(env, "RunPodSandbox", &Stub::RunPodSandbox, req, &resp)) return 1;
  std::cout << resp.pod_sandbox_id() << "\n";
  return 0;
}

int Create(Env& env, const Args& a) {
  if (!Require(a, {"pod", "name", "image"})) return 2;
  cri::CreateContainerRequest req;
  cri::CreateContainerResponse resp;
  req.set_pod_sandbox_id(a.Get("pod"));
  if (!PodConfig(a, "sandbox-", req.mutable_sandbox_config())) return 2;
  cri::ContainerConfig* c = req.mutable_config();
  c->mutable_metadata()->set_name(a.Get("name"));
  c->mutable_image()->set_image(a.Get("image"));
  for (const std::string& arg : a.rest) c->add_command(arg);
  c->set_working_dir(a.Get("workdir"));
  c->set_log_path(a.Get("log-path"));
  // As kubelet does: the pod's network and IPC, a pid namespace of the container's own
  // unless the pod shares one (shareProcessNamespace: --pid-mode pod).
  cri::NamespaceOption* ns =
      c->mutable_linux()->mutable_security_context()->mutable_namespace_options();
  ns->set_network(cri::POD);
  ns->set_ipc(cri::POD);
  ns->set_pid(a.Get("pid-mode") == "pod" ? cri::POD : cri::CONTAINER);
  // envs is a list, not a map: the order (and any repeated name) is the user's.
  const auto add_env = [c](const std::string& k, const std::string& v) {
    cri::KeyValue* kv = c->add_envs();
    kv->set_key(k);
    kv->set_value(v);
  };
  if (!ForPairs(a, "env", add_env) || !AddPairs(a, "annotation", c->mutable_annotations()) ||
      !AddPairs(a, "label", c->mutable_labels())) {
    return 2;
  }
  for (const std::string& m : a.All("mount")) {
    const size_t c1 = m.find(':'), c2 = m.find(':', c1 == std::string::npos ? c1 : c1 + 1);
    const std::string opt = c2 == std::string::npos ? "" : m.substr(c2 + 1);
    if (c1 == std::string::npos || c1 == 0 || (c2 != std::string::npos && opt != "ro")) {
      return UsageError("--mount wants HOST:CONTAINER[:ro], got " + m);
    }
    cri::Mount* mnt = c->add_mounts();
    mnt->set_host_path(m.substr(0, c1));
    mnt->set_container_path(m.substr(c1 + 1, c2 == std::string::npos ? c2 : c2 - c1 - 1));
    mnt->set_readonly(opt == "ro");
  }
  if (!Call(env, "CreateContainer", &Stub::CreateContainer, req, &resp)) return 1;
  std::cout << resp.container_id() << "\n";
  return 0;
}

// start, rm, stopp and rmp: one id in, nothing out.
template <typename Req, typename Resp>
int Simple(Env& env, const char* what, Method<Req, Resp> method, const std::string& id) {
  Req req;
  Resp resp;
  if constexpr (requires { req.set_container_id(id); }) {
    req.set_container_id(id);
  } else {
    req.set_pod_sandbox_id(id);
  }
  return Call(env, what, method, req, &resp) ? 0 : 1;
}
int Start(Env& e, const Args& a) {
  return Simple(e, "StartContainer", &Stub::StartContainer, a.pos[0]);
}
int Rm(Env& e, const Args& a) {
  return Simple(e, "RemoveContainer", &Stub::RemoveContainer, a.pos[0]);
}
int StopPod(Env& e, const Args& a) {
  return Simple(e, "StopPodSandbox", &Stub::StopPodSandbox, a.pos[0]);
}
int RmPod(Env& e, const Args& a) {
  return Simple(e, "RemovePodSandbox", &Stub::RemovePodSandbox, a.pos[0]);
}

int Stop(Env& env, const Args& a) {
  const auto grace = ParseSeconds(a.Get("timeout").empty() ? "0" : a.Get("timeout"));
  if (!grace) return UsageError("--timeout wants seconds");
  cri::StopContainerRequest req;
  cri::StopContainerResponse resp;
  req.set_container_id(a.pos[0]);
  req.set_timeout(*grace);
  return Call(env, "StopContainer", &Stub::StopContainer, req, &resp, *grace) ? 0 : 1;
}

int InspectPod(Env& env, const Args& a) {
  cri::PodSandboxStatusRequest req;
  cri::PodSandboxStatusResponse resp;
  req.set_pod_sandbox_id(a.pos[0]);
  if (!Call(env, "PodSandboxStatus", &Stub::PodSandboxStatus, req, &resp)) return 1;
  std::cout << "state=" << StateName(cri::PodSandboxState_Name(resp.status().state()), 8) << "\n"
            << "ip=" << resp.status().network().ip() << "\n";
  return 0;
}

int Inspect(Env& env, const Args& a) {
  cri::ContainerStatusRequest req;
  cri::ContainerStatusResponse resp;
  req.set_container_id(a.pos[0]);
  if (!Call(env, "ContainerStatus", &Stub::ContainerStatus, req, &resp)) return 1;
  const cri::ContainerStatus& s = resp.status();
  std::cout << "state=" << StateName(cri::ContainerState_Name(s.state()), 10) << "\n"
            << "exit_code=" << s.exit_code() << "\nreason=" << s.reason()
            << "\nmessage=" << s.message() << "\n";
  return 0;
}

int Ps(Env& env, const Args& a) {
  cri::ListContainersRequest req;
  cri::ListContainersResponse resp;
  if (const std::string pod = a.Get("pod"); !pod.empty()) {
    req.mutable_filter()->set_pod_sandbox_id(pod);
  }
  if (!Call(env, "ListContainers", &Stub::ListContainers, req, &resp)) return 1;
  for (const cri::Container& c : resp.containers()) {
    std::cout << c.id() << " " << StateName(cri::ContainerState_Name(c.state()), 10) << " "
              << c.pod_sandbox_id() << "\n";
  }
  return 0;
}

int Exec(Env& env, const Args& a) {
  const auto limit = ParseSeconds(a.Get("timeout").empty() ? "0" : a.Get("timeout"));
  if (!limit) return UsageError("--timeout wants seconds");
  cri::ExecSyncRequest req;
  cri::ExecSyncResponse resp;
  req.set_container_id(a.pos[0]);
  for (const std::string& arg : a.rest) req.add_cmd(arg);
  req.set_timeout(*limit);
  if (!Call(env, "ExecSync", &Stub::ExecSync, req, &resp, *limit)) return 1;
  std::cout.write(resp.stdout().data(), resp.stdout().size()).flush();
  std::cerr.write(resp.stderr().data(), resp.stderr().size()).flush();
  // A process status holds 8 bits; keep codes outside 0..255 from wrapping into "success".
  return resp.exit_code() >= 0 && resp.exit_code() <= 255 ? resp.exit_code() : 255;
}

enum class Rest { kNone, kOptional, kRequired };

struct Command {
  const char* name;
  size_t positionals;
  std::set<std::string> opts;  // every option takes a value
  Rest rest;
  int (*run)(Env&, const Args&);
};

std::vector<Command> Commands() {
  std::set<std::string> runp(kPodOpts.begin(), kPodOpts.end()),
      create = {"pod",      "name", "image", "log-path",   "workdir",
                "pid-mode", "env",  "mount", "annotation", "label"};
  runp.insert("handler");
  for (const std::string& k : kPodOpts) create.insert("sandbox-" + k);
  return {
      {"runp", 0, runp, Rest::kNone, RunPod},
      {"create", 0, create, Rest::kOptional, Create},
      {"start", 1, {}, Rest::kNone, Start},
      {"stop", 1, {"timeout"}, Rest::kNone, Stop},
      {"rm", 1, {}, Rest::kNone, Rm},
      {"stopp", 1, {}, Rest::kNone, StopPod},
      {"rmp", 1, {}, Rest::kNone, RmPod},
      {"inspectp", 1, {}, Rest::kNone, InspectPod},
      {"inspect", 1, {}, Rest::kNone, Inspect},
      {"ps", 0, {"pod"}, Rest::kNone, Ps},
      {"exec", 1, {"timeout"}, Rest::kRequired, Exec},
  };
}

int Main(int argc, char** argv) {
  Env env;
  std::string endpoint = "/run/containerd/containerd.sock";
  int i = 1;
  // Global options come before the command, so "stop ID --timeout S" stays the command's own.
  for (; i < argc && std::string(argv[i]).starts_with("-"); ++i) {
    const std::string opt = argv[i];
    if (opt == "--help" || opt == "-h") return std::cout << kUsage, 0;
    if ((opt != "--endpoint" && opt != "--timeout") || i + 1 >= argc) {
      return UsageError("bad option " + opt);
    }
    const std::string val = argv[++i];
    if (opt == "--endpoint") {
      endpoint = val;
    } else if (const auto t = ParseSeconds(val); t && *t > 0) {
      env.timeout = seconds(*t);
    } else {
      return UsageError("--timeout wants a positive number of seconds");
    }
  }
  if (i >= argc) return std::cerr << kUsage, 2;
  const std::vector<Command> commands = Commands();
  const std::string name = argv[i++];
  auto cmd = std::find_if(commands.begin(), commands.end(),
                          [&](const Command& c) { return name == c.name; });
  if (cmd == commands.end()) return UsageError("unknown command " + name);

  Args a;
  for (; i < argc; ++i) {
    const std::string s = argv[i];
    if (s == "--") {
      if (cmd->rest == Rest::kNone) return UsageError(name + " takes no arguments after --");
      a.rest.assign(argv + i + 1, argv + argc);
      break;
    }
    if (s.starts_with("--")) {
      if (!cmd->opts.contains(s.substr(2))) return UsageError(name + ": unknown option " + s);
      if (i + 1 >= argc) return UsageError(s + " wants a value");
      a.opts.emplace(s.substr(2), argv[++i]);
    } else {
      a.pos.push_back(s);
    }
  }
  if (a.pos.size() != cmd->positionals) return UsageError(name + ": wrong number of arguments");
  if (cmd->rest == Rest::kRequired && a.rest.empty()) return UsageError(name + " wants -- CMD");

  env.stub = cri::RuntimeService::NewStub(
      grpc::CreateChannel("unix://" + endpoint, grpc::InsecureChannelCredentials()));
  return cmd->run(env, a);
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return Main(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "cri-client: " << e.what() << "\n";
  } catch (...) {
    std::cerr << "cri-client: unexpected exception\n";
  }
  return 1;
}
