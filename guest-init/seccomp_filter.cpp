#include "guest-init/seccomp_filter.h"

#include <cerrno>
#include <cstring>
#include <map>
#include <vector>

namespace runvm::guest {
namespace {

Result<uint32_t> action(const std::string& name, std::optional<uint32_t> errno_ret) {
  uint32_t e = errno_ret.value_or(EPERM);
  if (name == "SCMP_ACT_KILL" || name == "SCMP_ACT_KILL_THREAD") return SCMP_ACT_KILL_THREAD;
  if (name == "SCMP_ACT_KILL_PROCESS") return SCMP_ACT_KILL_PROCESS;
  if (name == "SCMP_ACT_TRAP") return SCMP_ACT_TRAP;
  if (name == "SCMP_ACT_ERRNO") return SCMP_ACT_ERRNO(e);
  if (name == "SCMP_ACT_TRACE") return SCMP_ACT_TRACE(e);
  if (name == "SCMP_ACT_ALLOW") return SCMP_ACT_ALLOW;
  if (name == "SCMP_ACT_LOG") return SCMP_ACT_LOG;
  if (name == "SCMP_ACT_NOTIFY") return Error("action SCMP_ACT_NOTIFY is not supported", ENOTSUP);
  return Error("unknown action \"" + name + "\"", EINVAL);
}

Result<scmp_compare> compare_op(const std::string& op) {
  static const std::map<std::string, scmp_compare> kOps = {
      {"SCMP_CMP_NE", SCMP_CMP_NE},
      {"SCMP_CMP_LT", SCMP_CMP_LT},
      {"SCMP_CMP_LE", SCMP_CMP_LE},
      {"SCMP_CMP_EQ", SCMP_CMP_EQ},
      {"SCMP_CMP_GE", SCMP_CMP_GE},
      {"SCMP_CMP_GT", SCMP_CMP_GT},
      {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ}};
  auto it = kOps.find(op);
  if (it == kOps.end()) return Error("unknown operator \"" + op + "\"", EINVAL);
  return it->second;
}

// "SCMP_ARCH_X86_64" -> libseccomp's token ("x86_64").
Result<uint32_t> arch_token(const std::string& name) {
  const std::string prefix = "SCMP_ARCH_";
  if (name.rfind(prefix, 0) != 0) return Error("unknown architecture \"" + name + "\"", EINVAL);
  std::string lower = name.substr(prefix.size());
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  uint32_t tok = seccomp_arch_resolve_name(lower.c_str());
  if (tok == 0) return Error("unknown architecture \"" + name + "\"", EINVAL);
  return tok;
}

Status from_rc(int rc, const std::string& what) {
  if (rc < 0) return Error::from_errno(what, -rc);
  return {};
}

Status add_rules(scmp_filter_ctx ctx, const oci::SeccompSyscall& sc, uint32_t act, int nr,
                 const std::string& name) {
  std::vector<scmp_arg_cmp> cmps;
  std::map<uint32_t, int> per_index;
  if (sc.args) {
    for (size_t i = 0; i < sc.args->size(); ++i) {
      const auto& a = (*sc.args)[i];
      if (a.index > 5) return Error("args[" + std::to_string(i) + "].index: must be 0..5", EINVAL);
      auto op = compare_op(a.op);
      if (!op) return op.error().wrap("args[" + std::to_string(i) + "].op");
      scmp_arg_cmp c{};
      c.arg = a.index;
      c.op = *op;
      c.datum_a = a.value;
      c.datum_b = a.valueTwo.value_or(0);
      cmps.push_back(c);
      ++per_index[a.index];
    }
  }
  bool split = false;
  for (auto& [_, n] : per_index) split |= n > 1;
  if (cmps.empty() || !split)
    return from_rc(seccomp_rule_add_array(ctx, act, nr, static_cast<unsigned>(cmps.size()),
                                          cmps.empty() ? nullptr : cmps.data()),
                   "add rule for " + name);
  // Comparisons of one argument are ANDed by libseccomp and would contradict
  // each other; runc matches any of them instead.
  for (const auto& c : cmps)
    if (auto s = from_rc(seccomp_rule_add_array(ctx, act, nr, 1, &c), "add rule for " + name); !s)
      return s;
  return {};
}

}  // namespace

Result<scmp_filter_ctx> build_seccomp_filter(const oci::Seccomp& p) {
  auto def = action(p.defaultAction, p.defaultErrnoRet);
  if (!def) return def.error().wrap("seccomp: defaultAction");
  scmp_filter_ctx ctx = seccomp_init(*def);
  if (!ctx) return Error("seccomp: seccomp_init failed", EINVAL);
  auto fail = [&](Error e) {
    seccomp_release(ctx);
    return e.wrap("seccomp");
  };
  // no_new_privs is the process setup's decision (process.noNewPrivileges).
  if (auto s = from_rc(seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0), "clear NNP attribute"); !s)
    return fail(s.error());
  if (p.architectures) {
    for (const auto& a : *p.architectures) {
      auto tok = arch_token(a);
      if (!tok) return fail(tok.error().wrap("architectures"));
      int rc = seccomp_arch_add(ctx, *tok);
      if (rc < 0 && rc != -EEXIST) return fail(Error::from_errno("add architecture " + a, -rc));
    }
  }
  if (p.flags) {
    for (const auto& f : *p.flags) {
      scmp_filter_attr attr;
      if (f == "SECCOMP_FILTER_FLAG_TSYNC")
        attr = SCMP_FLTATR_CTL_TSYNC;
      else if (f == "SECCOMP_FILTER_FLAG_LOG")
        attr = SCMP_FLTATR_CTL_LOG;
      else if (f == "SECCOMP_FILTER_FLAG_SPEC_ALLOW")
        attr = SCMP_FLTATR_CTL_SSB;
      else
        return fail(Error("flags: unsupported flag \"" + f + "\"", EINVAL));
      if (auto s = from_rc(seccomp_attr_set(ctx, attr, 1), "set " + f); !s) return fail(s.error());
    }
  }
  if (p.syscalls) {
    for (size_t i = 0; i < p.syscalls->size(); ++i) {
      const auto& sc = (*p.syscalls)[i];
      std::string where = "syscalls[" + std::to_string(i) + "]";
      auto act = action(sc.action, sc.errnoRet);
      if (!act) return fail(act.error().wrap(where + ".action"));
      if (*act == *def) continue;
      for (const auto& name : sc.names) {
        int nr = seccomp_syscall_resolve_name(name.c_str());
        if (nr == __NR_SCMP_ERROR) continue;  // unknown here (other arch or newer kernel)
        if (auto s = add_rules(ctx, sc, *act, nr, name); !s) return fail(s.error().wrap(where));
      }
    }
  }
  return ctx;
}

Status load_seccomp(const oci::Seccomp& profile) {
  auto ctx = build_seccomp_filter(profile);
  if (!ctx) return ctx.error();
  int rc = seccomp_load(*ctx);
  seccomp_release(*ctx);
  return from_rc(rc, "seccomp: load filter");
}

}  // namespace runvm::guest
