#include "runtime/exec_process_spec.h"

#include <cerrno>
#include <charconv>

#include "oci/names.h"

namespace runvm::runtime {

namespace {

Result<uint32_t> parse_id(const std::string& flag, const std::string& text) {
  uint32_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) {
    return Error(flag + " \"" + text + "\": not a numeric id", EINVAL);
  }
  return v;
}

void set_env(std::vector<std::string>& env, const std::string& kv) {
  const std::string key = kv.substr(0, kv.find('='));
  for (auto& e : env) {
    if (e.substr(0, e.find('=')) == key) {
      e = kv;
      return;
    }
  }
  env.push_back(kv);
}

void add_cap(std::optional<oci::StringList>& set, const std::string& cap) {
  if (!set) set.emplace();
  for (const auto& c : *set)
    if (c == cap) return;
  set->push_back(cap);
}

}  // namespace

Result<oci::Process> exec_process(const oci::Process& base, const ExecOverrides& o) {
  oci::Process p = base;
  if (o.args.empty()) return Error("no command given", EINVAL);
  p.args = o.args;
  p.terminal = o.tty;
  p.consoleSize.reset();
  if (!o.env.empty()) {
    if (!p.env) p.env.emplace();
    for (const auto& kv : o.env) {
      if (kv.find('=') == std::string::npos || kv.front() == '=') {
        return Error("--env \"" + kv + "\": want KEY=VALUE", EINVAL);
      }
      set_env(*p.env, kv);
    }
  }
  if (!o.cwd.empty()) {
    if (o.cwd.front() != '/') return Error("--cwd \"" + o.cwd + "\": must be absolute", EINVAL);
    p.cwd = o.cwd;
  }
  if (!o.user.empty()) {
    const auto colon = o.user.find(':');
    auto uid = parse_id("--user", o.user.substr(0, colon));
    if (!uid) return uid.error();
    p.user.uid = *uid;
    if (colon != std::string::npos) {
      auto gid = parse_id("--user", o.user.substr(colon + 1));
      if (!gid) return gid.error();
      p.user.gid = *gid;
    }
  }
  for (const auto& g : o.additional_gids) {
    auto gid = parse_id("--additional-gids", g);
    if (!gid) return gid.error();
    if (!p.user.additionalGids) p.user.additionalGids.emplace();
    p.user.additionalGids->push_back(*gid);
  }
  for (const auto& cap : o.caps) {
    if (!oci::capability_number(cap)) {
      return Error("--cap \"" + cap + "\": unknown capability", EINVAL);
    }
    if (!p.capabilities) p.capabilities.emplace();
    add_cap(p.capabilities->bounding, cap);
    add_cap(p.capabilities->effective, cap);
    add_cap(p.capabilities->permitted, cap);
    add_cap(p.capabilities->inheritable, cap);
  }
  if (o.no_new_privs) p.noNewPrivileges = true;
  return p;
}

}  // namespace runvm::runtime
