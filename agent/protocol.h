// The host<->guest agent protocol (see agent/PROTOCOL.md): framing, message
// types and their validated (de)serialisation. Shared by the host client and the
// guest server; no I/O here except the blocking frame helpers at the end.
//
// Every decode function treats its input as untrusted: lengths are checked before
// anything is allocated, JSON types and ranges are checked field by field, and a
// violation is an Error naming the field.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/guest_contract.h"  // kAgentVsockPort
#include "agent/network_config.h"
#include "base/file_io.h"
#include "base/result.h"

namespace runvm::agent {

inline constexpr uint32_t kProtocolVersion = 1;
// Largest frame body (type byte excluded) either side accepts. Checked before allocation.
inline constexpr uint32_t kMaxFrameBody = 4u << 20;
// Largest payload of one Data frame either side sends or accepts.
inline constexpr uint32_t kMaxDataChunk = 64u << 10;
// Stdin credit the guest grants a process when it is created.
inline constexpr uint32_t kInitialStdinCredit = 256u << 10;

enum class MsgType : uint8_t {
  kHello = 1,       // host -> guest, JSON
  kHelloReply = 2,  // guest -> host, JSON
  kRequest = 3,     // host -> guest, JSON {"id", "op", ...}
  kResponse = 4,    // guest -> host, JSON {"id", "ok", ...}
  kEvent = 5,       // guest -> host, JSON {"event", ...}
  kData = 6,        // both, binary: u32 handle, u8 stream, payload
  kCredit = 7,      // guest -> host, binary: u32 handle, u32 bytes (stdin window)
};

struct Frame {
  MsgType type{};
  std::string body;
};

// Wire form of one frame: u32 big-endian length of (type + body), u8 type, body.
[[nodiscard]] std::string encode_frame(MsgType type, std::string_view body);

// Incremental frame parser for a byte stream. feed() raw bytes, then call next()
// until it returns nullopt (needs more bytes). An error is final: the stream is
// out of sync and the connection must be dropped.
class FrameDecoder {
 public:
  void feed(const char* data, size_t n) { buf_.append(data, n); }
  [[nodiscard]] Result<std::optional<Frame>> next();
  size_t buffered() const { return buf_.size() - pos_; }

 private:
  std::string buf_;
  size_t pos_ = 0;
};

// ---- binary messages ----

enum class Stream : uint8_t { kStdin = 0, kStdout = 1, kStderr = 2 };

// A chunk of one stdio stream of the process `handle`. An empty payload on
// stdout/stderr is that stream's EOF; empty stdin payloads are invalid.
struct DataMsg {
  uint32_t handle = 0;
  Stream stream = Stream::kStdout;
  std::string bytes;
  bool operator==(const DataMsg&) const = default;
};
[[nodiscard]] std::string encode_data(const DataMsg& m);
[[nodiscard]] Result<DataMsg> decode_data(std::string_view body);

// The guest allows `bytes` more stdin bytes for process `handle`.
struct CreditMsg {
  uint32_t handle = 0;
  uint32_t bytes = 0;
  bool operator==(const CreditMsg&) const = default;
};
[[nodiscard]] std::string encode_credit(const CreditMsg& m);
[[nodiscard]] Result<CreditMsg> decode_credit(std::string_view body);

// ---- handshake ----

struct Hello {
  uint32_t min_version = kProtocolVersion;
  uint32_t max_version = kProtocolVersion;
};
// When the guest reached each step of its boot, on its own CLOCK_MONOTONIC (ns since the
// guest kernel started its clock). `now` is taken as the reply is sent, so the host can
// place the other steps on its own clock (runtime/vm/start_trace.h). 0 = not recorded.
struct GuestBootTimes {
  uint64_t now = 0;
  uint64_t init = 0;     // PID 1 started
  uint64_t modules = 0;  // kernel modules loaded
  uint64_t rootfs = 0;   // shares and the container's root mounted
  uint64_t listen = 0;   // agent listening
  bool operator==(const GuestBootTimes&) const = default;
};
struct HelloReply {
  uint32_t version = 0;
  std::string agent;  // free text, e.g. "runvm-agent 0.1.0"
  std::optional<GuestBootTimes> boot;
};
[[nodiscard]] std::string encode_hello(const Hello& h);
[[nodiscard]] Result<Hello> decode_hello(std::string_view body);
[[nodiscard]] std::string encode_hello_reply(const HelloReply& h);
[[nodiscard]] Result<HelloReply> decode_hello_reply(std::string_view body);

// ---- process description ----

// The part of an OCI `process` object the agent itself needs; `raw` keeps the
// whole object for the launcher (capabilities, rlimits, ... are its business).
struct ProcessSpec {
  std::vector<std::string> args;  // non-empty
  std::vector<std::string> env;   // "NAME=value"
  std::string cwd;                // absolute
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::vector<uint32_t> additional_gids;
  std::optional<uint32_t> umask;
  bool terminal = false;
  uint16_t rows = 0;  // consoleSize.height
  uint16_t cols = 0;  // consoleSize.width
  nlohmann::json raw;
};
// Validates an OCI process object (JSON paths in errors are relative to it).
[[nodiscard]] Result<ProcessSpec> parse_process_spec(const nlohmann::json& j);

// ---- requests (host -> guest) ----

// The container: its OCI config.json document (process = the init process),
// which is created and then held until Start.
struct CreateReq {
  std::string container_id;
  nlohmann::json config;
  bool stdin = false;  // host will send stdin; otherwise stdin is /dev/null
  // Empty: the VM's own container, whose rootfs guest-init mounted at boot. Else a
  // further container of a pod VM, whose rootfs the host placed at this guest path.
  std::string rootfs{};
};
struct StartReq {};
struct ExecReq {
  std::string process_id;  // unique among the container's processes; not "init"
  nlohmann::json process;  // OCI process object
  bool stdin = false;
};
struct SignalReq {
  std::string process_id;  // ignored when all
  int signal = 0;          // 1..64
  bool all = false;        // every process of the container
};
struct CloseStdinReq {
  std::string process_id;
};
struct ResizeReq {
  std::string process_id;
  uint16_t rows = 0;
  uint16_t cols = 0;
};
struct PsReq {};
struct WaitReq {
  std::string process_id;
};
// The container's cgroup statistics (agent/stats.h).
struct StatsReq {};
// New limits for the container's cgroup: an OCI linux.resources object, parsed and
// applied by the launcher.
struct UpdateReq {
  nlohmann::json resources;
};
// The container's network (agent/network_config.h), applied before start.
struct NetworkReq {
  NetworkConfig network;
};
// Removes a pod VM's further container: kills its processes, undoes its mounts and cgroup.
struct DestroyReq {};
// A VM started from a snapshot (a template saved before any container): fresh entropy
// for the guest's random number generator, the wall clock, and then the mounts the
// template left for later. Before any create.
struct RestoredReq {
  std::vector<uint8_t> seed;  // kMinRestoreSeed..kMaxRestoreSeed bytes from the host
  uint64_t realtime_ns = 0;   // CLOCK_REALTIME on the host
};
inline constexpr size_t kMinRestoreSeed = 32;
inline constexpr size_t kMaxRestoreSeed = 256;
using RequestBody =
    std::variant<CreateReq, StartReq, ExecReq, SignalReq, CloseStdinReq, ResizeReq, PsReq, WaitReq,
                 StatsReq, UpdateReq, NetworkReq, DestroyReq, RestoredReq>;
struct Request {
  uint64_t id = 0;  // chosen by the host, echoed in the response
  RequestBody body;
  // The container a request other than create is for (create names it in its body);
  // empty: the VM's first container.
  std::string container_id{};
};
// The id of the container's own process in requests and events.
inline constexpr std::string_view kInitProcessId = "init";

[[nodiscard]] std::string encode_request(const Request& r);
// On error, *id_out (if given) receives the request id when it could be read, so
// the guest can still answer that request with an error.
[[nodiscard]] Result<Request> decode_request(std::string_view body, uint64_t* id_out = nullptr);
[[nodiscard]] std::string_view op_name(const RequestBody& b);

// ---- responses (guest -> host) ----

struct Response {
  uint64_t id = 0;
  bool ok = false;
  std::string error;                                 // when !ok
  int err = 0;                                       // errno behind the error, 0 if none
  nlohmann::json result = nlohmann::json::object();  // when ok; shape depends on the op
};
[[nodiscard]] std::string encode_response(const Response& r);
[[nodiscard]] Result<Response> decode_response(std::string_view body);

// Result of create and exec.
struct ProcessInfo {
  uint32_t handle = 0;  // names the process in Data/Credit frames
  int pid = 0;          // guest pid
};
[[nodiscard]] nlohmann::json to_json(const ProcessInfo& p);
[[nodiscard]] Result<ProcessInfo> process_info_from_json(const nlohmann::json& j);

// ---- exit status and events ----

struct ExitStatus {
  bool signaled = false;
  int code = 0;    // exit code when !signaled (0..255)
  int signal = 0;  // terminating signal when signaled (1..64)
  // What the host process standing for this one exits with: code, or 128+signal.
  int host_code() const { return signaled ? 128 + signal : code; }
  bool operator==(const ExitStatus&) const = default;
};
// From a waitpid() status.
[[nodiscard]] ExitStatus exit_status_from_wait(int wstatus);
[[nodiscard]] nlohmann::json to_json(const ExitStatus& s);
[[nodiscard]] Result<ExitStatus> exit_status_from_json(const nlohmann::json& j);

struct ExitEvent {
  std::string process_id;
  uint32_t handle = 0;
  ExitStatus status;
};
[[nodiscard]] std::string encode_exit_event(const ExitEvent& e);
[[nodiscard]] Result<ExitEvent> decode_event(std::string_view body);

// ---- blocking helpers on a stream fd (write_all is base/file_io.h) ----

// Reads one frame. Errors: EOF ("connection closed", err 0) or a framing/I/O error.
[[nodiscard]] Result<Frame> read_frame(int fd);

// The host side's reader (the guest is not trusted to finish what it starts):
// waits at most `first_byte_ms` for the frame's first byte (-1: no limit), then
// at most `rest_ms` (kFrameCompletionMs by default) for the rest. Errors: no first byte in time,
// ETIMEDOUT; an incomplete frame at the deadline, EPROTO (the peer broke the protocol).
inline constexpr int kFrameCompletionMs = 10000;
[[nodiscard]] Result<Frame> read_frame_within(int fd, int first_byte_ms,
                                              int rest_ms = kFrameCompletionMs);

// Frame bodies nest JSON at most this deep; deeper is a decoding error.
inline constexpr int kMaxJsonDepth = 32;

}  // namespace runvm::agent
