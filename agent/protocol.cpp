#include "agent/protocol.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <iterator>
#include <limits>
#include <optional>
#include <variant>

namespace runvm::agent {
namespace {

using json = nlohmann::json;

// Bounds on JSON content, so a hostile peer cannot make the other side hold
// absurd vectors (the frame size already bounds total memory).
constexpr size_t kMaxIdLen = 256;
constexpr size_t kMaxListLen = 4096;
constexpr size_t kMaxStringLen = 64u << 10;

void put_u32(std::string& s, uint32_t v) {
  s.push_back(static_cast<char>(v >> 24));
  s.push_back(static_cast<char>(v >> 16));
  s.push_back(static_cast<char>(v >> 8));
  s.push_back(static_cast<char>(v));
}

uint32_t get_u32(std::string_view s, size_t at) {
  auto b = [&](size_t i) { return static_cast<uint32_t>(static_cast<unsigned char>(s[at + i])); };
  return (b(0) << 24) | (b(1) << 16) | (b(2) << 8) | b(3);
}

Result<json> parse_object(std::string_view body) {
  bool too_deep = false;
  json::parser_callback_t limit = [&too_deep](int depth, json::parse_event_t, json&) {
    if (depth > kMaxJsonDepth) too_deep = true;
    return !too_deep;  // discarded values are not kept: memory stays bounded too
  };
  json j = json::parse(body.begin(), body.end(), limit, /*allow_exceptions=*/false);
  if (too_deep) return Error("JSON nested deeper than " + std::to_string(kMaxJsonDepth));
  if (j.is_discarded()) return Error("invalid JSON");
  if (!j.is_object()) return Error("expected a JSON object");
  return j;
}

const char* type_name(const json& j) {
  return j.type_name();
}

// Typed field access: a missing key is an error unless `optional`; a null value
// counts as missing.
Result<const json*> field(const json& obj, const char* key, bool optional) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) {
    if (optional) return static_cast<const json*>(nullptr);
    return Error(std::string(key) + ": missing");
  }
  return &*it;
}

Result<uint64_t> get_uint(const json& obj, const char* key, uint64_t max, bool optional = false,
                          uint64_t dflt = 0) {
  auto f = field(obj, key, optional);
  if (!f) return f.error();
  if (*f == nullptr) return dflt;
  const json& v = **f;
  if (!v.is_number_integer())
    return Error(std::string(key) + ": expected unsigned integer, got " + type_name(v));
  // Values built in C++ may be stored signed; only the sign matters.
  if (!v.is_number_unsigned() && v.get<int64_t>() < 0)
    return Error(std::string(key) + ": must not be negative");
  uint64_t n = v.get<uint64_t>();
  if (n > max) return Error(std::string(key) + ": " + std::to_string(n) + " is out of range");
  return n;
}

Result<bool> get_bool(const json& obj, const char* key, bool dflt) {
  auto f = field(obj, key, true);
  if (!f) return f.error();
  if (*f == nullptr) return dflt;
  if (!(*f)->is_boolean())
    return Error(std::string(key) + ": expected boolean, got " + type_name(**f));
  return (*f)->get<bool>();
}

Result<std::string> check_string(const json& v, const std::string& path, size_t max_len) {
  if (!v.is_string()) return Error(path + ": expected string, got " + type_name(v));
  const auto& s = v.get_ref<const std::string&>();
  if (s.size() > max_len) return Error(path + ": longer than " + std::to_string(max_len));
  if (s.find('\0') != std::string::npos) return Error(path + ": contains a NUL byte");
  return s;
}

Result<std::string> get_string(const json& obj, const char* key, size_t max_len,
                               bool optional = false) {
  auto f = field(obj, key, optional);
  if (!f) return f.error();
  if (*f == nullptr) return std::string();
  return check_string(**f, key, max_len);
}

Result<std::vector<std::string>> get_string_list(const json& obj, const char* key) {
  std::vector<std::string> out;
  auto f = field(obj, key, true);
  if (!f) return f.error();
  if (*f == nullptr) return out;
  const json& v = **f;
  if (!v.is_array()) return Error(std::string(key) + ": expected array, got " + type_name(v));
  if (v.size() > kMaxListLen) return Error(std::string(key) + ": too many entries");
  for (size_t i = 0; i < v.size(); ++i) {
    auto s = check_string(v[i], std::string(key) + "[" + std::to_string(i) + "]", kMaxStringLen);
    if (!s) return s.error();
    out.push_back(std::move(*s));
  }
  return out;
}

// A process id chosen by the host: printable, no slash (it may name files).
Result<std::string> get_process_id(const json& obj, const char* key) {
  auto s = get_string(obj, key, kMaxIdLen);
  if (!s) return s.error();
  if (s->empty()) return Error(std::string(key) + ": must not be empty");
  for (char c : *s) {
    if (c <= ' ' || c == '/' || c == 0x7f)
      return Error(std::string(key) + ": invalid character in \"" + *s + "\"");
  }
  return s;
}

// Why `path` is not a plain absolute guest path (no "." or ".." step), or nothing.
std::optional<std::string> guest_path_problem(const std::string& path) {
  if (path.empty() || path[0] != '/') return "must be an absolute path";
  for (size_t at = 0; at < path.size();) {
    size_t end = path.find('/', at + 1);
    if (end == std::string::npos) end = path.size();
    std::string_view step(path.data() + at + 1, end - at - 1);
    if (step == "." || step == "..") return "\"" + path + "\" has a . or .. step";
    at = end;
  }
  if (path.find('\0') != std::string::npos) return "holds a NUL byte";
  return std::nullopt;
}

Result<int> get_signal(const json& obj) {
  auto n = get_uint(obj, "signal", 64);
  if (!n) return n.error();
  if (*n == 0) return Error("signal: must be 1..64");
  return static_cast<int>(*n);
}

}  // namespace

std::string encode_frame(MsgType type, std::string_view body) {
  std::string out;
  out.reserve(5 + body.size());
  put_u32(out, static_cast<uint32_t>(body.size() + 1));
  out.push_back(static_cast<char>(type));
  out.append(body);
  return out;
}

Result<std::optional<Frame>> FrameDecoder::next() {
  if (buffered() < 5) return std::optional<Frame>();
  std::string_view v(buf_);
  uint32_t len = get_u32(v, pos_);
  if (len == 0) return Error("frame: zero length");
  if (len - 1 > kMaxFrameBody)
    return Error("frame: body of " + std::to_string(len - 1) + " bytes exceeds the maximum " +
                 std::to_string(kMaxFrameBody));
  uint8_t type = static_cast<uint8_t>(v[pos_ + 4]);
  if (type < static_cast<uint8_t>(MsgType::kHello) || type > static_cast<uint8_t>(MsgType::kCredit))
    return Error("frame: unknown message type " + std::to_string(type));
  if (buffered() < 4 + static_cast<size_t>(len)) return std::optional<Frame>();
  Frame f{static_cast<MsgType>(type), std::string(v.substr(pos_ + 5, len - 1))};
  pos_ += 4 + len;
  // Compact once the consumed prefix dominates, keeping appends amortised O(1).
  if (pos_ > 65536 && pos_ * 2 > buf_.size()) {
    buf_.erase(0, pos_);
    pos_ = 0;
  }
  return std::optional<Frame>(std::move(f));
}

std::string encode_data(const DataMsg& m) {
  std::string out;
  put_u32(out, m.handle);
  out.push_back(static_cast<char>(m.stream));
  out.append(m.bytes);
  return out;
}

Result<DataMsg> decode_data(std::string_view body) {
  if (body.size() < 5) return Error("data: shorter than its 5-byte header");
  DataMsg m;
  m.handle = get_u32(body, 0);
  uint8_t s = static_cast<uint8_t>(body[4]);
  if (s > 2) return Error("data: unknown stream " + std::to_string(s));
  m.stream = static_cast<Stream>(s);
  if (body.size() - 5 > kMaxDataChunk) return Error("data: payload exceeds the maximum chunk");
  m.bytes.assign(body.substr(5));
  if (m.stream == Stream::kStdin && m.bytes.empty()) return Error("data: empty stdin payload");
  return m;
}

std::string encode_credit(const CreditMsg& m) {
  std::string out;
  put_u32(out, m.handle);
  put_u32(out, m.bytes);
  return out;
}

Result<CreditMsg> decode_credit(std::string_view body) {
  if (body.size() != 8)
    return Error("credit: expected 8 bytes, got " + std::to_string(body.size()));
  return CreditMsg{get_u32(body, 0), get_u32(body, 4)};
}

std::string encode_hello(const Hello& h) {
  return json{{"min_version", h.min_version}, {"max_version", h.max_version}}.dump();
}

Result<Hello> decode_hello(std::string_view body) {
  auto j = parse_object(body);
  if (!j) return j.error().wrap("hello");
  Hello h;
  auto lo = get_uint(*j, "min_version", UINT32_MAX);
  if (!lo) return lo.error().wrap("hello");
  auto hi = get_uint(*j, "max_version", UINT32_MAX);
  if (!hi) return hi.error().wrap("hello");
  if (*lo > *hi) return Error("hello: min_version > max_version");
  h.min_version = static_cast<uint32_t>(*lo);
  h.max_version = static_cast<uint32_t>(*hi);
  return h;
}

std::string encode_hello_reply(const HelloReply& h) {
  json j{{"version", h.version}, {"agent", h.agent}};
  if (h.boot) {
    const auto& b = *h.boot;
    j["boot"] = {{"now", b.now},
                 {"init", b.init},
                 {"modules", b.modules},
                 {"rootfs", b.rootfs},
                 {"listen", b.listen}};
  }
  return j.dump();
}

Result<HelloReply> decode_hello_reply(std::string_view body) {
  auto j = parse_object(body);
  if (!j) return j.error().wrap("hello reply");
  auto v = get_uint(*j, "version", UINT32_MAX);
  if (!v) return v.error().wrap("hello reply");
  auto a = get_string(*j, "agent", kMaxIdLen, true);
  if (!a) return a.error().wrap("hello reply");
  HelloReply r{static_cast<uint32_t>(*v), std::move(*a), std::nullopt};
  auto boot = field(*j, "boot", true);
  if (!boot) return boot.error().wrap("hello reply");
  if (*boot) {
    const json& b = **boot;
    if (!b.is_object()) return Error("hello reply: boot: expected object");
    GuestBootTimes t;
    const std::pair<const char*, uint64_t*> keys[] = {{"now", &t.now},
                                                      {"init", &t.init},
                                                      {"modules", &t.modules},
                                                      {"rootfs", &t.rootfs},
                                                      {"listen", &t.listen}};
    for (auto [key, out] : keys) {
      // Times in ns below 2^62: a guest's bogus value cannot overflow the host's sums.
      auto n = get_uint(b, key, uint64_t{1} << 62, true);
      if (!n) return n.error().wrap("hello reply: boot");
      *out = *n;
    }
    r.boot = t;
  }
  return r;
}

Result<ProcessSpec> parse_process_spec(const json& j) {
  if (!j.is_object()) return Error(std::string("expected object, got ") + type_name(j));
  ProcessSpec p;
  auto args = get_string_list(j, "args");
  if (!args) return args.error();
  if (args->empty()) return Error("args: must not be empty");
  p.args = std::move(*args);
  auto env = get_string_list(j, "env");
  if (!env) return env.error();
  for (size_t i = 0; i < env->size(); ++i) {
    const auto& e = (*env)[i];
    if (e.find('=') == std::string::npos || e[0] == '=')
      return Error("env[" + std::to_string(i) + "]: expected NAME=value, got \"" + e + "\"");
  }
  p.env = std::move(*env);
  auto cwd = get_string(j, "cwd", 4096);
  if (!cwd) return cwd.error();
  if (cwd->empty() || (*cwd)[0] != '/') return Error("cwd: must be an absolute path");
  p.cwd = std::move(*cwd);
  auto term = get_bool(j, "terminal", false);
  if (!term) return term.error();
  p.terminal = *term;
  if (auto it = j.find("user"); it != j.end() && !it->is_null()) {
    const json& u = *it;
    if (!u.is_object()) return Error("user: expected object");
    auto uid = get_uint(u, "uid", UINT32_MAX, true);
    if (!uid) return uid.error().wrap("user");
    auto gid = get_uint(u, "gid", UINT32_MAX, true);
    if (!gid) return gid.error().wrap("user");
    p.uid = static_cast<uint32_t>(*uid);
    p.gid = static_cast<uint32_t>(*gid);
    if (auto um = u.find("umask"); um != u.end() && !um->is_null()) {
      auto m = get_uint(u, "umask", 0777);
      if (!m) return m.error().wrap("user");
      p.umask = static_cast<uint32_t>(*m);
    }
    if (auto ag = u.find("additionalGids"); ag != u.end() && !ag->is_null()) {
      if (!ag->is_array() || ag->size() > kMaxListLen)
        return Error("user.additionalGids: expected an array of at most 4096 gids");
      for (size_t i = 0; i < ag->size(); ++i) {
        const json& g = (*ag)[i];
        if (!g.is_number_integer() || (!g.is_number_unsigned() && g.get<int64_t>() < 0) ||
            g.get<uint64_t>() > UINT32_MAX)
          return Error("user.additionalGids[" + std::to_string(i) + "]: expected uint32");
        p.additional_gids.push_back(g.get<uint32_t>());
      }
    }
  }
  if (auto cs = j.find("consoleSize"); cs != j.end() && !cs->is_null()) {
    if (!cs->is_object()) return Error("consoleSize: expected object");
    auto h = get_uint(*cs, "height", UINT16_MAX, true);
    if (!h) return h.error().wrap("consoleSize");
    auto w = get_uint(*cs, "width", UINT16_MAX, true);
    if (!w) return w.error().wrap("consoleSize");
    p.rows = static_cast<uint16_t>(*h);
    p.cols = static_cast<uint16_t>(*w);
  }
  p.raw = j;
  return p;
}

namespace {

// ---- one encoder and one decoder per request type ----
// (Decoders get the whole request object; errors name fields relative to it.)

void put_fields(json& j, const CreateReq& b) {
  j["container_id"] = b.container_id;
  j["config"] = b.config;
  j["stdin"] = b.stdin;
  if (!b.rootfs.empty()) j["rootfs"] = b.rootfs;
}
void put_fields(json&, const StartReq&) {}
void put_fields(json& j, const ExecReq& b) {
  j["process_id"] = b.process_id;
  j["process"] = b.process;
  j["stdin"] = b.stdin;
}
void put_fields(json& j, const SignalReq& b) {
  if (!b.all) j["process_id"] = b.process_id;
  j["signal"] = b.signal;
  j["all"] = b.all;
}
void put_fields(json& j, const CloseStdinReq& b) {
  j["process_id"] = b.process_id;
}
void put_fields(json& j, const ResizeReq& b) {
  j["process_id"] = b.process_id;
  j["rows"] = b.rows;
  j["cols"] = b.cols;
}
void put_fields(json&, const PsReq&) {}
void put_fields(json& j, const WaitReq& b) {
  j["process_id"] = b.process_id;
}
void put_fields(json&, const StatsReq&) {}
void put_fields(json& j, const UpdateReq& b) {
  j["resources"] = b.resources;
}
void put_fields(json& j, const NetworkReq& b) {
  j["network"] = to_json(b.network);
}
void put_fields(json&, const DestroyReq&) {}
void put_fields(json& j, const RestoredReq& b) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (uint8_t c : b.seed) {
    hex += kHex[c >> 4];
    hex += kHex[c & 15];
  }
  j["seed"] = hex;
  j["realtime_ns"] = b.realtime_ns;
}

Result<RequestBody> decode_create(const json& j) {
  CreateReq c;
  auto cid = get_process_id(j, "container_id");
  if (!cid) return cid.error();
  c.container_id = *cid;
  auto cf = j.find("config");
  if (cf == j.end() || !cf->is_object()) return Error("config: expected object");
  auto pr = cf->find("process");
  if (pr == cf->end()) return Error("config.process: missing");
  auto ps = parse_process_spec(*pr);
  if (!ps) return ps.error().wrap("config.process");
  c.config = *cf;
  auto in = get_bool(j, "stdin", false);
  if (!in) return in.error();
  c.stdin = *in;
  if (j.contains("rootfs")) {
    auto root = get_string(j, "rootfs", 4096);
    if (!root) return root.error();
    if (auto bad = guest_path_problem(*root)) return Error("rootfs: " + *bad);
    c.rootfs = std::move(*root);
  }
  return RequestBody(std::move(c));
}

Result<RequestBody> decode_start(const json&) {
  return RequestBody(StartReq{});
}

Result<RequestBody> decode_exec(const json& j) {
  ExecReq e;
  auto pid = get_process_id(j, "process_id");
  if (!pid) return pid.error();
  if (*pid == kInitProcessId) return Error("process_id: \"init\" is reserved");
  e.process_id = *pid;
  auto pr = j.find("process");
  if (pr == j.end()) return Error("process: missing");
  auto ps = parse_process_spec(*pr);
  if (!ps) return ps.error().wrap("process");
  e.process = *pr;
  auto in = get_bool(j, "stdin", false);
  if (!in) return in.error();
  e.stdin = *in;
  return RequestBody(std::move(e));
}

Result<RequestBody> decode_signal(const json& j) {
  SignalReq s;
  auto all = get_bool(j, "all", false);
  if (!all) return all.error();
  s.all = *all;
  if (!s.all) {
    auto pid = get_process_id(j, "process_id");
    if (!pid) return pid.error();
    s.process_id = *pid;
  }
  auto sig = get_signal(j);
  if (!sig) return sig.error();
  s.signal = *sig;
  return RequestBody(std::move(s));
}

Result<RequestBody> decode_close_stdin(const json& j) {
  auto pid = get_process_id(j, "process_id");
  if (!pid) return pid.error();
  return RequestBody(CloseStdinReq{*pid});
}

Result<RequestBody> decode_resize(const json& j) {
  ResizeReq z;
  auto pid = get_process_id(j, "process_id");
  if (!pid) return pid.error();
  z.process_id = *pid;
  auto rows = get_uint(j, "rows", UINT16_MAX);
  if (!rows) return rows.error();
  auto cols = get_uint(j, "cols", UINT16_MAX);
  if (!cols) return cols.error();
  z.rows = static_cast<uint16_t>(*rows);
  z.cols = static_cast<uint16_t>(*cols);
  return RequestBody(std::move(z));
}

Result<RequestBody> decode_ps(const json&) {
  return RequestBody(PsReq{});
}

Result<RequestBody> decode_wait(const json& j) {
  auto pid = get_process_id(j, "process_id");
  if (!pid) return pid.error();
  return RequestBody(WaitReq{*pid});
}

Result<RequestBody> decode_stats(const json&) {
  return RequestBody(StatsReq{});
}

Result<RequestBody> decode_update(const json& j) {
  auto res = j.find("resources");
  if (res == j.end() || !res->is_object()) return Error("resources: expected object");
  return RequestBody(UpdateReq{*res});
}

Result<RequestBody> decode_destroy(const json&) {
  return RequestBody(DestroyReq{});
}

Result<RequestBody> decode_restored(const json& j) {
  RestoredReq r;
  auto hex = get_string(j, "seed", 2 * kMaxRestoreSeed);
  if (!hex) return hex.error();
  if (hex->size() % 2 || hex->size() < 2 * kMinRestoreSeed)
    return Error("seed: " + std::to_string(2 * kMinRestoreSeed) + " to " +
                 std::to_string(2 * kMaxRestoreSeed) + " hex digits");
  auto digit = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  for (size_t i = 0; i < hex->size(); i += 2) {
    int hi = digit((*hex)[i]), lo = digit((*hex)[i + 1]);
    if (hi < 0 || lo < 0) return Error("seed: not lower-case hex");
    r.seed.push_back(static_cast<uint8_t>(hi << 4 | lo));
  }
  auto t = get_uint(j, "realtime_ns", std::numeric_limits<uint64_t>::max());
  if (!t) return t.error();
  r.realtime_ns = *t;
  return RequestBody(std::move(r));
}

Result<RequestBody> decode_network(const json& j) {
  auto net = j.find("network");
  if (net == j.end()) return Error("network: missing");
  auto cfg = network_config_from_json(*net);
  if (!cfg) return cfg.error();
  return RequestBody(NetworkReq{std::move(*cfg)});
}

// The wire name and decoder of each request type, in RequestBody's order
// (decode_request checks that a decoder made the type its row stands for).
struct RequestCodec {
  std::string_view op;
  Result<RequestBody> (*decode)(const json& j);
};
constexpr RequestCodec kRequestCodecs[] = {
    {"create", decode_create},
    {"start", decode_start},
    {"exec", decode_exec},
    {"signal", decode_signal},
    {"close_stdin", decode_close_stdin},
    {"resize", decode_resize},
    {"ps", decode_ps},
    {"wait", decode_wait},
    {"stats", decode_stats},
    {"update", decode_update},
    {"network", decode_network},
    {"destroy", decode_destroy},
    {"restored", decode_restored},
};
static_assert(std::size(kRequestCodecs) == std::variant_size_v<RequestBody>);

}  // namespace

std::string_view op_name(const RequestBody& b) {
  return kRequestCodecs[b.index()].op;
}

std::string encode_request(const Request& r) {
  json j{{"id", r.id}, {"op", op_name(r.body)}};
  std::visit([&](const auto& b) { put_fields(j, b); }, r.body);
  if (!r.container_id.empty() && !std::holds_alternative<CreateReq>(r.body))
    j["container_id"] = r.container_id;
  return j.dump();
}

Result<Request> decode_request(std::string_view body, uint64_t* id_out) {
  auto jr = parse_object(body);
  if (!jr) return jr.error().wrap("request");
  const json& j = *jr;
  auto id = get_uint(j, "id", std::numeric_limits<uint64_t>::max());
  if (!id) return id.error().wrap("request");
  if (id_out) *id_out = *id;
  auto op = get_string(j, "op", 32);
  if (!op) return op.error().wrap("request");
  for (size_t i = 0; i < std::size(kRequestCodecs); ++i) {
    if (kRequestCodecs[i].op != *op) continue;
    auto b = kRequestCodecs[i].decode(j);
    if (!b) return b.error().wrap("request " + *op);
    if (b->index() != i) return Error("request " + *op + ": decoded as another type (a bug)");
    Request r{*id, std::move(*b), {}};
    if (auto* c = std::get_if<CreateReq>(&r.body)) {
      r.container_id = c->container_id;
    } else if (j.contains("container_id")) {
      auto cid = get_process_id(j, "container_id");
      if (!cid) return cid.error().wrap("request " + *op);
      r.container_id = std::move(*cid);
    }
    return r;
  }
  return Error("request: unknown op \"" + *op + "\"");
}

std::string encode_response(const Response& r) {
  json j{{"id", r.id}, {"ok", r.ok}};
  if (r.ok) {
    j["result"] = r.result;
  } else {
    j["error"] = r.error;
    j["errno"] = r.err;
  }
  return j.dump();
}

Result<Response> decode_response(std::string_view body) {
  auto j = parse_object(body);
  if (!j) return j.error().wrap("response");
  Response r;
  auto id = get_uint(*j, "id", std::numeric_limits<uint64_t>::max());
  if (!id) return id.error().wrap("response");
  r.id = *id;
  auto ok = get_bool(*j, "ok", false);
  if (!ok) return ok.error().wrap("response");
  r.ok = *ok;
  if (r.ok) {
    auto it = j->find("result");
    if (it != j->end() && !it->is_null()) {
      if (!it->is_object()) return Error("response: result: expected object");
      r.result = *it;
    }
  } else {
    auto e = get_string(*j, "error", kMaxStringLen);
    if (!e) return e.error().wrap("response");
    r.error = *e;
    auto en = get_uint(*j, "errno", 4095, true);
    if (!en) return en.error().wrap("response");
    r.err = static_cast<int>(*en);
  }
  return r;
}

json to_json(const ProcessInfo& p) {
  return json{{"handle", p.handle}, {"pid", p.pid}};
}

Result<ProcessInfo> process_info_from_json(const json& j) {
  auto h = get_uint(j, "handle", UINT32_MAX);
  if (!h) return h.error();
  auto pid = get_uint(j, "pid", INT32_MAX);
  if (!pid) return pid.error();
  return ProcessInfo{static_cast<uint32_t>(*h), static_cast<int>(*pid)};
}

ExitStatus exit_status_from_wait(int wstatus) {
  ExitStatus s;
  if (WIFSIGNALED(wstatus)) {
    s.signaled = true;
    s.signal = WTERMSIG(wstatus);
  } else {
    s.code = WEXITSTATUS(wstatus);
  }
  return s;
}

json to_json(const ExitStatus& s) {
  if (s.signaled) return json{{"signal", s.signal}};
  return json{{"code", s.code}};
}

Result<ExitStatus> exit_status_from_json(const json& j) {
  if (!j.is_object()) return Error("status: expected object");
  ExitStatus s;
  bool has_code = j.contains("code"), has_sig = j.contains("signal");
  if (has_code == has_sig) return Error("status: exactly one of code and signal expected");
  if (has_sig) {
    auto n = get_signal(j);
    if (!n) return n.error().wrap("status");
    s.signaled = true;
    s.signal = *n;
  } else {
    auto n = get_uint(j, "code", 255);
    if (!n) return n.error().wrap("status");
    s.code = static_cast<int>(*n);
  }
  return s;
}

std::string encode_exit_event(const ExitEvent& e) {
  return json{{"event", "exit"},
              {"process_id", e.process_id},
              {"handle", e.handle},
              {"status", to_json(e.status)}}
      .dump();
}

Result<ExitEvent> decode_event(std::string_view body) {
  auto j = parse_object(body);
  if (!j) return j.error().wrap("event");
  auto kind = get_string(*j, "event", 32);
  if (!kind) return kind.error().wrap("event");
  if (*kind != "exit") return Error("event: unknown event \"" + *kind + "\"");
  ExitEvent e;
  auto pid = get_process_id(*j, "process_id");
  if (!pid) return pid.error().wrap("exit event");
  e.process_id = *pid;
  auto h = get_uint(*j, "handle", UINT32_MAX);
  if (!h) return h.error().wrap("exit event");
  e.handle = static_cast<uint32_t>(*h);
  auto st = j->find("status");
  if (st == j->end()) return Error("exit event: status: missing");
  auto s = exit_status_from_json(*st);
  if (!s) return s.error().wrap("exit event");
  e.status = *s;
  return e;
}

namespace {
// Reads n bytes; with a deadline, waits for each part at most until then.
Status read_exact(int fd, char* buf, size_t n,
                  std::optional<std::chrono::steady_clock::time_point> deadline = {}) {
  while (n > 0) {
    if (deadline) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                      *deadline - std::chrono::steady_clock::now())
                      .count();
      pollfd pf{fd, POLLIN, 0};
      // A passed deadline still takes what has arrived (poll with 0).
      int p = ::poll(&pf, 1, static_cast<int>(std::max<int64_t>(left, 0)));
      if (p < 0 && errno == EINTR) continue;
      if (p < 0) return Error::from_errno("poll the agent connection");
      if (p == 0) return Error("a frame stayed incomplete past its deadline", EPROTO);
    }
    ssize_t r = ::read(fd, buf, n);
    if (r < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return Error::from_errno("read from agent connection");
    }
    if (r == 0) return Error("agent connection closed");
    buf += r;
    n -= static_cast<size_t>(r);
  }
  return {};
}

// With `rest_ms` >= 0, the frame must be complete that long after its first byte.
Result<Frame> read_frame_impl(int fd, int rest_ms) {
  char hdr[5];
  if (auto s = read_exact(fd, hdr, 1); !s) return s.error();
  std::optional<std::chrono::steady_clock::time_point> rest;
  if (rest_ms >= 0) rest = std::chrono::steady_clock::now() + std::chrono::milliseconds(rest_ms);
  if (auto s = read_exact(fd, hdr + 1, sizeof hdr - 1, rest); !s) return s.error();
  std::string_view h(hdr, sizeof hdr);
  uint32_t len = get_u32(h, 0);
  if (len == 0) return Error("frame: zero length");
  if (len - 1 > kMaxFrameBody) return Error("frame: body exceeds the maximum");
  uint8_t type = static_cast<uint8_t>(hdr[4]);
  if (type < static_cast<uint8_t>(MsgType::kHello) || type > static_cast<uint8_t>(MsgType::kCredit))
    return Error("frame: unknown message type " + std::to_string(type));
  Frame f{static_cast<MsgType>(type), std::string(len - 1, '\0')};
  if (auto s = read_exact(fd, f.body.data(), f.body.size(), rest); !s) return s.error();
  return f;
}
}  // namespace

Result<Frame> read_frame(int fd) {
  return read_frame_impl(fd, -1);
}

Result<Frame> read_frame_within(int fd, int first_byte_ms, int rest_ms) {
  if (first_byte_ms >= 0) {
    pollfd pf{fd, POLLIN, 0};
    int p;
    do {
      p = ::poll(&pf, 1, first_byte_ms);
    } while (p < 0 && errno == EINTR);
    if (p < 0) return Error::from_errno("poll the agent connection");
    if (p == 0) return Error("no frame from the agent", ETIMEDOUT);
  }
  return read_frame_impl(fd, std::max(rest_ms, 0));
}

}  // namespace runvm::agent
