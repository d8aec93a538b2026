#include "runtime/vm/start_trace.h"

#include <charconv>
#include <cstdio>
#include <utility>

namespace runvm::runtime::vm {
namespace {

using json = nlohmann::json;

// The steps in time order, with their names in the JSON file and the debug line.
template <typename Trace, typename Fn>
void each_step(Trace& t, Fn fn) {
  fn("template_ready", t.template_ready);
  fn("vmm_spawn", t.vmm_spawn);
  fn("vmm_main", t.vmm_main);
  fn("guest_entry", t.guest_entry);
  fn("guest_init", t.guest_init);
  fn("guest_modules", t.guest_modules);
  fn("guest_rootfs", t.guest_rootfs);
  fn("agent_listen", t.agent_listen);
  fn("agent_ready", t.agent_ready);
  fn("restored", t.restored);
  fn("created", t.created);
  fn("start_asked", t.start_asked);
  fn("started", t.started);
  fn("exited", t.exited);
}

bool read_number(std::string_view line, std::string_view key, uint64_t& out) {
  size_t at = line.find(key);
  if (at == std::string_view::npos) return false;
  const char* b = line.data() + at + key.size();
  const char* e = line.data() + line.size();
  auto [p, ec] = std::from_chars(b, e, out);
  return ec == std::errc() && p != b;
}

}  // namespace

bool parse_vmm_start_line(std::string_view log, StartTrace& t) {
  constexpr std::string_view kPrefix = "runvm-vmm: start trace: ";
  size_t at = log.find(kPrefix);
  if (at == std::string_view::npos) return false;
  std::string_view line = log.substr(at + kPrefix.size());
  line = line.substr(0, line.find('\n'));
  uint64_t main = 0, entry = 0;
  if (!read_number(line, "main=", main) || !read_number(line, "guest_entry=", entry)) return false;
  t.vmm_main = main;
  t.guest_entry = entry;
  return true;
}

void place_guest_times(const agent::GuestBootTimes& g, uint64_t received, StartTrace& t) {
  if (g.now == 0 || g.now > received) return;  // no usable anchor
  auto place = [&](uint64_t guest_ns) -> uint64_t {
    if (guest_ns == 0 || guest_ns > g.now) return 0;
    return received - (g.now - guest_ns);
  };
  t.guest_init = place(g.init);
  t.guest_modules = place(g.modules);
  t.guest_rootfs = place(g.rootfs);
  t.agent_listen = place(g.listen);
}

json to_json(const StartTrace& t) {
  json j = json::object();
  each_step(t, [&j](const char* name, uint64_t v) {
    if (v != 0) j[name] = v;
  });
  return j;
}

Result<StartTrace> start_trace_from_json(const json& j) {
  if (!j.is_object()) return Error("start trace: expected a JSON object", EINVAL);
  StartTrace t;
  Status bad;
  each_step(t, [&](const char* name, uint64_t& v) {
    auto it = j.find(name);
    if (it == j.end()) return;
    if (!it->is_number_unsigned()) {
      bad = Error(std::string("start trace: ") + name + ": expected an unsigned integer", EINVAL);
      return;
    }
    v = it->get<uint64_t>();
  });
  if (!bad) return bad.error();
  return t;
}

std::string format_start_trace(const StartTrace& t, uint64_t origin, uint64_t end) {
  std::string out;
  auto add = [&](const char* name, uint64_t v) {
    if (v == 0) return;
    char buf[64];
    double ms = (static_cast<double>(v) - static_cast<double>(origin)) / 1e6;
    std::snprintf(buf, sizeof buf, "%s%s=%.1f", out.empty() ? "" : " ", name, ms);
    out += buf;
  };
  each_step(t, add);
  add("end", end);
  return out;
}

}  // namespace runvm::runtime::vm
