#include "agent/host_client.h"

#include <poll.h>
#include <sys/random.h>
#include <time.h>

#include <algorithm>
#include <cerrno>
#include <chrono>

namespace runvm::agent {

using json = nlohmann::json;

Result<HelloReply> Client::hello() {
  if (auto s = write_all(fd_, encode_frame(MsgType::kHello, encode_hello(Hello{}))); !s)
    return s.error().wrap("agent hello");
  auto f = read_frame_within(fd_, -1, frame_completion_ms_);
  if (!f) return f.error().wrap("agent hello");
  if (f->type != MsgType::kHelloReply)
    return Error("agent hello: unexpected message type " +
                 std::to_string(static_cast<int>(f->type)));
  auto r = decode_hello_reply(f->body);
  if (!r) return r.error().wrap("agent hello");
  if (r->version != kProtocolVersion)
    return Error("agent hello: agent chose unsupported version " + std::to_string(r->version));
  return r;
}

Status Client::queue(Event e, size_t bytes) {
  if (events_.size() >= kMaxQueuedEvents || queued_bytes_ + bytes > kMaxQueuedBytes)
    return Error("the agent sent more than " + std::to_string(kMaxQueuedBytes >> 20) + " MiB or " +
                 std::to_string(kMaxQueuedEvents) + " events without being read");
  queued_bytes_ += bytes;
  events_.push_back(std::move(e));
  return {};
}

Status Client::read_one(std::optional<Response>* resp) {
  // The caller has seen the fd readable or is content to wait for the first byte.
  auto f = read_frame_within(fd_, -1, frame_completion_ms_);
  if (!f) return f.error();
  switch (f->type) {
    case MsgType::kResponse: {
      auto r = decode_response(f->body);
      if (!r) return r.error();
      *resp = std::move(*r);
      return {};
    }
    case MsgType::kEvent: {
      auto e = decode_event(f->body);
      if (!e) return e.error();
      return queue(std::move(*e), sizeof(ExitEvent) + e->process_id.size());
    }
    case MsgType::kData: {
      auto d = decode_data(f->body);
      if (!d) return d.error();
      if (d->stream == Stream::kStdin) return Error("data: agent sent a stdin frame");
      size_t bytes = sizeof(DataMsg) + d->bytes.size();
      return queue(std::move(*d), bytes);
    }
    case MsgType::kCredit: {
      auto c = decode_credit(f->body);
      if (!c) return c.error();
      // Only handles create/exec returned: the map must not grow at the guest's will.
      if (!credit_.contains(c->handle))
        return Error("credit: unknown handle " + std::to_string(c->handle));
      uint64_t sum = uint64_t{credit_[c->handle]} + c->bytes;
      // Credit returned never exceeds what was sent plus the initial window.
      if (sum > kInitialStdinCredit) return Error("credit: agent granted more than the window");
      credit_[c->handle] = static_cast<uint32_t>(sum);
      return {};
    }
    default:
      return Error("unexpected message type " + std::to_string(static_cast<int>(f->type)));
  }
}

Result<json> Client::call(RequestBody body) {
  std::string op(op_name(body));
  // wait answers only when the process exits: no deadline for it.
  const bool bounded = call_timeout_ms_ >= 0 && !std::holds_alternative<WaitReq>(body);
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(call_timeout_ms_);
  Request req{next_id_++, std::move(body), container_id_};
  if (auto s = write_all(fd_, encode_frame(MsgType::kRequest, encode_request(req))); !s)
    return s.error().wrap("agent " + op);
  for (;;) {
    if (bounded) {
      // A guest that stops answering must not hold the caller forever.
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                      deadline - std::chrono::steady_clock::now())
                      .count();
      pollfd pf{fd_, POLLIN, 0};
      int n = left > 0 ? ::poll(&pf, 1, static_cast<int>(left)) : 0;
      if (n < 0 && errno == EINTR) continue;
      if (n == 0) return Error("agent " + op + ": no answer from the guest", ETIMEDOUT);
    }
    std::optional<Response> resp;
    if (auto s = read_one(&resp); !s) return s.error().wrap("agent " + op);
    if (!resp) continue;
    if (resp->id != req.id)
      return Error("agent " + op + ": response to unknown request " + std::to_string(resp->id));
    if (!resp->ok) return Error("agent: " + resp->error, resp->err);
    return std::move(resp->result);
  }
}

Result<ProcessInfo> Client::create(const std::string& container_id, const json& config,
                                   bool stdin) {
  auto r = call(CreateReq{container_id, config, stdin});
  if (!r) return r.error();
  auto p = process_info_from_json(*r);
  if (!p) return p.error().wrap("agent create: result");
  credit_[p->handle] = kInitialStdinCredit;
  return p;
}

Result<ProcessInfo> Client::create_in_pod(const std::string& container_id, const json& config,
                                          const std::string& rootfs, bool stdin) {
  auto r = call(CreateReq{container_id, config, stdin, rootfs});
  if (!r) return r.error();
  auto p = process_info_from_json(*r);
  if (!p) return p.error().wrap("agent create: result");
  credit_[p->handle] = kInitialStdinCredit;
  address(container_id);
  return p;
}

Status Client::destroy() {
  auto r = call(DestroyReq{});
  if (!r) return r.error();
  return {};
}

Status Client::restored() {
  RestoredReq req;
  req.seed.resize(64);
  if (::getrandom(req.seed.data(), req.seed.size(), 0) != static_cast<ssize_t>(req.seed.size()))
    return Error::from_errno("getrandom for the guest's seed");
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  req.realtime_ns =
      static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
  auto r = call(std::move(req));
  if (!r) return r.error().wrap("agent restored");
  return {};
}

Status Client::start() {
  auto r = call(StartReq{});
  if (!r) return r.error();
  return {};
}

Result<ProcessInfo> Client::exec(const std::string& process_id, const json& process, bool stdin) {
  auto r = call(ExecReq{process_id, process, stdin});
  if (!r) return r.error();
  auto p = process_info_from_json(*r);
  if (!p) return p.error().wrap("agent exec: result");
  credit_[p->handle] = kInitialStdinCredit;
  return p;
}

Status Client::signal(const std::string& process_id, int sig) {
  auto r = call(SignalReq{process_id, sig, false});
  if (!r) return r.error();
  return {};
}

Status Client::signal_all(int sig) {
  auto r = call(SignalReq{"", sig, true});
  if (!r) return r.error();
  return {};
}

Status Client::close_stdin(const std::string& process_id) {
  auto r = call(CloseStdinReq{process_id});
  if (!r) return r.error();
  return {};
}

Status Client::resize(const std::string& process_id, uint16_t rows, uint16_t cols) {
  auto r = call(ResizeReq{process_id, rows, cols});
  if (!r) return r.error();
  return {};
}

Result<std::vector<int>> Client::ps() {
  auto r = call(PsReq{});
  if (!r) return r.error();
  auto it = r->find("pids");
  if (it == r->end() || !it->is_array()) return Error("agent ps: result: pids missing");
  std::vector<int> out;
  for (const auto& p : *it) {
    if (!p.is_number_unsigned() || p.get<uint64_t>() > INT32_MAX)
      return Error("agent ps: result: invalid pid");
    out.push_back(p.get<int>());
  }
  return out;
}

Result<ContainerStats> Client::stats() {
  auto r = call(StatsReq{});
  if (!r) return r.error();
  auto it = r->find("stats");
  if (it == r->end()) return Error("agent stats: result: stats missing");
  auto s = stats_from_json(*it);
  if (!s) return s.error().wrap("agent stats: result");
  return s;
}

Status Client::update(const nlohmann::json& resources) {
  auto r = call(UpdateReq{resources});
  if (!r) return r.error();
  return {};
}

Status Client::configure_network(const NetworkConfig& network) {
  auto r = call(NetworkReq{network});
  if (!r) return r.error();
  return {};
}

Result<ExitStatus> Client::wait(const std::string& process_id) {
  auto r = call(WaitReq{process_id});
  if (!r) return r.error();
  auto it = r->find("status");
  if (it == r->end()) return Error("agent wait: result: status missing");
  auto s = exit_status_from_json(*it);
  if (!s) return s.error().wrap("agent wait: result");
  return s;
}

uint32_t Client::stdin_credit(uint32_t handle) const {
  auto it = credit_.find(handle);
  return it == credit_.end() ? 0 : it->second;
}

Status Client::write_stdin(uint32_t handle, std::string_view bytes) {
  if (!credit_.count(handle)) return Error("write stdin: unknown process handle");
  while (!bytes.empty()) {
    uint32_t& c = credit_[handle];
    if (c == 0) {
      std::optional<Response> resp;
      if (auto s = read_one(&resp); !s) return s.error().wrap("write stdin");
      if (resp) return Error("write stdin: unexpected response");
      continue;
    }
    size_t n = std::min<size_t>({bytes.size(), c, kMaxDataChunk});
    DataMsg d{handle, Stream::kStdin, std::string(bytes.substr(0, n))};
    if (auto s = write_all(fd_, encode_frame(MsgType::kData, encode_data(d))); !s)
      return s.error().wrap("write stdin");
    c -= static_cast<uint32_t>(n);
    bytes.remove_prefix(n);
  }
  return {};
}

Result<Event> Client::next_event(int timeout_ms) {
  while (events_.empty()) {
    pollfd pf{fd_, POLLIN, 0};
    int n = poll(&pf, 1, timeout_ms);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error::from_errno("agent: poll");
    }
    if (n == 0) return Error("agent: timed out waiting for an event", ETIMEDOUT);
    std::optional<Response> resp;
    if (auto s = read_one(&resp); !s) return s.error().wrap("agent");
    if (resp) return Error("agent: response to no pending request");
  }
  Event e = std::move(events_.front());
  events_.pop_front();
  if (auto* d = std::get_if<DataMsg>(&e)) {
    queued_bytes_ -= std::min(queued_bytes_, sizeof(DataMsg) + d->bytes.size());
  } else {
    queued_bytes_ -=
        std::min(queued_bytes_, sizeof(ExitEvent) + std::get<ExitEvent>(e).process_id.size());
  }
  return e;
}

}  // namespace runvm::agent
