#include "oci/validate.h"

#include <algorithm>
#include <charconv>
#include <set>

#include "oci/features.h"
#include "oci/json_io.h"
#include "oci/names.h"

namespace runvm::oci {
namespace {

using detail::index;
using detail::join;
using detail::key;
using detail::quote;

bool is_abs(const std::string& p) {
  return !p.empty() && p[0] == '/';
}

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Semantic Versioning 2.0.0; returns the major version, or nullopt when `v` is not one.
std::optional<uint64_t> semver_major(std::string_view v) {
  auto plus = v.find('+');
  std::string_view build = plus == std::string_view::npos ? "" : v.substr(plus + 1);
  v = v.substr(0, plus);
  auto dash = v.find('-');
  std::string_view pre = dash == std::string_view::npos ? "" : v.substr(dash + 1);
  std::string_view core = v.substr(0, dash);
  auto ident_ok = [](std::string_view ids, bool numeric_no_leading_zero) {
    size_t start = 0;
    while (true) {
      size_t dot = ids.find('.', start);
      std::string_view id =
          ids.substr(start, dot == std::string_view::npos ? ids.npos : dot - start);
      if (id.empty()) return false;
      for (char c : id) {
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              c == '-'))
          return false;
      }
      if (numeric_no_leading_zero && all_digits(id) && id.size() > 1 && id[0] == '0') return false;
      if (dot == std::string_view::npos) return true;
      start = dot + 1;
    }
  };
  if ((plus != std::string_view::npos && !ident_ok(build, false)) ||
      (dash != std::string_view::npos && !ident_ok(pre, true))) {
    return std::nullopt;
  }
  uint64_t parts[3];
  size_t start = 0;
  for (int i = 0; i < 3; ++i) {
    size_t dot = core.find('.', start);
    if ((i < 2) == (dot == std::string_view::npos)) return std::nullopt;
    std::string_view num = core.substr(start, i < 2 ? dot - start : core.npos);
    if (!all_digits(num) || (num.size() > 1 && num[0] == '0')) return std::nullopt;
    auto [p, ec] = std::from_chars(num.data(), num.data() + num.size(), parts[i]);
    if (ec != std::errc()) return std::nullopt;
    start = dot + 1;
  }
  return parts[0];
}

// "0-3,7,9-10"; empty is allowed (unset).
bool cpu_list_ok(std::string_view s) {
  if (s.empty()) return true;
  size_t start = 0;
  while (true) {
    size_t comma = s.find(',', start);
    std::string_view item = s.substr(start, comma == s.npos ? s.npos : comma - start);
    size_t dash = item.find('-');
    std::string_view lo = item.substr(0, dash);
    std::string_view hi = dash == item.npos ? lo : item.substr(dash + 1);
    unsigned a = 0, b = 0;
    if (!all_digits(lo) || !all_digits(hi)) return false;
    if (std::from_chars(lo.data(), lo.data() + lo.size(), a).ec != std::errc() ||
        std::from_chars(hi.data(), hi.data() + hi.size(), b).ec != std::errc() || a > b) {
      return false;
    }
    if (comma == s.npos) return true;
    start = comma + 1;
  }
}

// "2MB", "1GB", "64KB", "16GB" ...: a number followed by KB, MB, GB, TB or PB.
bool page_size_ok(std::string_view s) {
  if (s.size() < 3) return false;
  std::string_view unit = s.substr(s.size() - 2);
  if (unit != "KB" && unit != "MB" && unit != "GB" && unit != "TB" && unit != "PB") return false;
  return all_digits(s.substr(0, s.size() - 2));
}

class Checker {
 public:
  std::vector<Violation> out;

  void add(const std::string& path, std::string reason) {
    out.push_back({path, std::move(reason)});
  }

  void abs_path(const std::string& path, const std::string& value) {
    if (value.empty()) {
      add(path, "is required");
    } else if (!is_abs(value)) {
      add(path, "must be an absolute path");
    }
  }

  void known(const std::string& path, std::span<const std::string_view> table,
             const std::string& value, std::string_view what) {
    if (value.empty()) {
      add(path, "is required");
    } else if (!contains(table, value)) {
      add(path, "unknown " + std::string(what) + " " + quote(value));
    }
  }

  template <class T>
  void range(const std::string& path, T v, T lo, T hi) {
    if (v < lo || v > hi) {
      add(path, "must be in [" + std::to_string(lo) + ", " + std::to_string(hi) + "], got " +
                    std::to_string(v));
    }
  }

  void id_mappings(const std::string& path, const std::vector<IdMapping>& maps) {
    for (size_t i = 0; i < maps.size(); ++i) {
      if (maps[i].size == 0) add(join(index(path, i), "size"), "must be greater than zero");
    }
  }

  void process(const Process& p, const std::string& path) {
    if (!p.args || p.args->empty()) {
      add(join(path, "args"), "must contain at least one element");
    }
    abs_path(join(path, "cwd"), p.cwd);
    if (p.env) {
      for (size_t i = 0; i < p.env->size(); ++i) {
        const std::string& e = (*p.env)[i];
        auto eq = e.find('=');
        if (eq == std::string::npos) {
          add(index(join(path, "env"), i), "must be of the form NAME=value, got " + quote(e));
        } else if (eq == 0) {
          add(index(join(path, "env"), i), "variable name must not be empty");
        }
      }
    }
    if (p.consoleSize && !p.terminal.value_or(false)) {
      add(join(path, "consoleSize"), "requires process.terminal to be true");
    }
    if (p.user.umask && *p.user.umask > 0777) {
      add(join(path, "user.umask"),
          "must be at most 0777 (511), got " + std::to_string(*p.user.umask));
    }
    if (p.capabilities) {
      const std::string cpath = join(path, "capabilities");
      const std::pair<const char*, const std::optional<StringList>*> sets[] = {
          {"bounding", &p.capabilities->bounding},       {"effective", &p.capabilities->effective},
          {"inheritable", &p.capabilities->inheritable}, {"permitted", &p.capabilities->permitted},
          {"ambient", &p.capabilities->ambient},
      };
      for (const auto& [name, set] : sets) {
        if (!*set) continue;
        for (size_t i = 0; i < (*set)->size(); ++i) {
          const std::string& c = (**set)[i];
          if (!capability_number(c)) {
            add(index(join(cpath, name), i), "unknown capability " + quote(c));
          }
        }
      }
    }
    if (p.rlimits) {
      std::set<std::string> seen;
      for (size_t i = 0; i < p.rlimits->size(); ++i) {
        const Rlimit& r = (*p.rlimits)[i];
        const std::string rp = index(join(path, "rlimits"), i);
        if (r.type.empty()) {
          add(join(rp, "type"), "is required");
        } else if (!rlimit_number(r.type)) {
          add(join(rp, "type"), "unknown rlimit " + quote(r.type));
        } else if (!seen.insert(r.type).second) {
          add(join(rp, "type"), "duplicate rlimit " + quote(r.type));
        }
        if (r.soft > r.hard) {
          add(join(rp, "soft"), "must not exceed hard (" + std::to_string(r.soft) + " > " +
                                    std::to_string(r.hard) + ")");
        }
      }
    }
    if (p.oomScoreAdj) range(join(path, "oomScoreAdj"), *p.oomScoreAdj, -1000, 1000);
    if (p.ioPriority) {
      const std::string ip = join(path, "ioPriority");
      known(join(ip, "class"), io_priority_classes(), p.ioPriority->class_, "class");
      range(join(ip, "priority"), p.ioPriority->priority, 0, 7);
    }
    if (p.scheduler) {
      const std::string sp = join(path, "scheduler");
      const Scheduler& s = *p.scheduler;
      known(join(sp, "policy"), scheduler_policies(), s.policy, "policy");
      if (s.nice) range(join(sp, "nice"), *s.nice, -20, 19);
      if (s.priority) {
        if (s.policy == "SCHED_FIFO" || s.policy == "SCHED_RR") {
          range(join(sp, "priority"), *s.priority, 1, 99);
        } else if (*s.priority != 0) {
          add(join(sp, "priority"), "must be 0 unless policy is SCHED_FIFO or SCHED_RR");
        }
      }
      if (s.flags) {
        for (size_t i = 0; i < s.flags->size(); ++i) {
          known(index(join(sp, "flags"), i), scheduler_flags(), (*s.flags)[i], "flag");
        }
      }
      if (s.policy == "SCHED_DEADLINE" && !s.runtime) {
        add(join(sp, "runtime"), "is required for SCHED_DEADLINE");
      }
    }
    if (p.execCPUAffinity) {
      const std::string ap = join(path, "execCPUAffinity");
      if (p.execCPUAffinity->initial && !cpu_list_ok(*p.execCPUAffinity->initial)) {
        add(join(ap, "initial"),
            "must be a CPU list like \"0-3,7\", got " + quote(*p.execCPUAffinity->initial));
      }
      if (p.execCPUAffinity->final && !cpu_list_ok(*p.execCPUAffinity->final)) {
        add(join(ap, "final"),
            "must be a CPU list like \"0-3,7\", got " + quote(*p.execCPUAffinity->final));
      }
    }
  }

  void hooks(const Hooks& h) {
    const std::pair<const char*, const std::optional<std::vector<Hook>>*> lists[] = {
        {"prestart", &h.prestart},
        {"createRuntime", &h.createRuntime},
        {"createContainer", &h.createContainer},
        {"startContainer", &h.startContainer},
        {"poststart", &h.poststart},
        {"poststop", &h.poststop},
    };
    for (const auto& [name, list] : lists) {
      if (!*list) continue;
      for (size_t i = 0; i < (*list)->size(); ++i) {
        const Hook& hook = (**list)[i];
        const std::string hp = index(join("hooks", name), i);
        abs_path(join(hp, "path"), hook.path);
        if (hook.timeout && *hook.timeout <= 0) {
          add(join(hp, "timeout"),
              "must be greater than zero, got " + std::to_string(*hook.timeout));
        }
      }
    }
  }

  void mounts(const std::vector<Mount>& ms) {
    for (size_t i = 0; i < ms.size(); ++i) {
      const std::string mp = index("mounts", i);
      abs_path(join(mp, "destination"), ms[i].destination);
      if (ms[i].uidMappings) id_mappings(join(mp, "uidMappings"), *ms[i].uidMappings);
      if (ms[i].gidMappings) id_mappings(join(mp, "gidMappings"), *ms[i].gidMappings);
    }
  }

  void annotations(const StringMap& a) {
    for (const auto& [k, v] : a) {
      if (k.empty()) {
        add(key("annotations", k), "key must not be empty");
        continue;
      }
      if (k.rfind(kVmAnnotationPrefix, 0) != 0) continue;
      const VmKnob* knob = find_vm_knob(k);
      if (!knob) {
        add(key("annotations", k), "unknown runvm VM annotation (see `runvm features`)");
      } else if (auto why = check_vm_knob(*knob, v)) {
        add(key("annotations", k), *why);
      }
    }
  }

  void linux(const Linux& l, const Spec& spec) {
    std::set<std::string> ns_types;
    std::optional<std::string> user_ns_path;
    if (l.namespaces) {
      for (size_t i = 0; i < l.namespaces->size(); ++i) {
        const Namespace& n = (*l.namespaces)[i];
        const std::string np = index("linux.namespaces", i);
        if (n.type.empty()) {
          add(join(np, "type"), "is required");
        } else if (!contains(namespace_types(), n.type)) {
          add(join(np, "type"), "unknown namespace type " + quote(n.type));
        } else if (!ns_types.insert(n.type).second) {
          add(join(np, "type"), "duplicate namespace type " + quote(n.type));
        } else if (n.type == "user") {
          user_ns_path = n.path.value_or("");
        }
        if (n.path && !is_abs(*n.path)) add(join(np, "path"), "must be an absolute path");
      }
    }
    if (l.uidMappings) id_mappings("linux.uidMappings", *l.uidMappings);
    if (l.gidMappings) id_mappings("linux.gidMappings", *l.gidMappings);
    const bool has_mappings = l.uidMappings || l.gidMappings;
    if (!user_ns_path && has_mappings) {
      add(l.uidMappings ? "linux.uidMappings" : "linux.gidMappings",
          "requires a user namespace in linux.namespaces");
    }
    if (user_ns_path && user_ns_path->empty() && !has_mappings) {
      add("linux.uidMappings",
          "is required with a new user namespace (or give the namespace a path)");
    }
    if (spec.hostname && !spec.hostname->empty() && !ns_types.count("uts")) {
      add("hostname", "requires a UTS namespace in linux.namespaces");
    }
    if (spec.domainname && !spec.domainname->empty() && !ns_types.count("uts")) {
      add("domainname", "requires a UTS namespace in linux.namespaces");
    }
    if (l.timeOffsets) {
      for (const auto& [clock, off] : *l.timeOffsets) {
        if (!contains(time_offset_clocks(), clock)) {
          add(key("linux.timeOffsets", clock),
              "unknown clock " + quote(clock) + " (want \"boottime\" or \"monotonic\")");
        }
        if (off.nanosecs >= 1000000000u) {
          add(join(key("linux.timeOffsets", clock), "nanosecs"), "must be less than 1000000000");
        }
      }
      if (!l.timeOffsets->empty() && !ns_types.count("time")) {
        add("linux.timeOffsets", "requires a time namespace in linux.namespaces");
      }
    }
    if (l.devices) {
      for (size_t i = 0; i < l.devices->size(); ++i) {
        const Device& d = (*l.devices)[i];
        const std::string dp = index("linux.devices", i);
        if (d.type.empty()) {
          add(join(dp, "type"), "is required");
        } else if (d.type != "c" && d.type != "b" && d.type != "u" && d.type != "p") {
          add(join(dp, "type"), "unknown device type " + quote(d.type) + " (want c, b, u or p)");
        } else if (d.type != "p") {
          if (!d.major) add(join(dp, "major"), "is required for type " + quote(d.type));
          if (!d.minor) add(join(dp, "minor"), "is required for type " + quote(d.type));
        }
        abs_path(join(dp, "path"), d.path);
        if (d.fileMode && *d.fileMode > 07777) {
          add(join(dp, "fileMode"),
              "must be at most 07777 (4095), got " + std::to_string(*d.fileMode));
        }
      }
    }
    if (l.resources) resources(*l.resources, "linux.resources");
    if (l.sysctl) {
      for (const auto& [k, v] : *l.sysctl) {
        if (k.empty()) add(key("linux.sysctl", k), "key must not be empty");
      }
    }
    if (l.seccomp) seccomp(*l.seccomp);
    if (l.rootfsPropagation) {
      known("linux.rootfsPropagation", rootfs_propagations(), *l.rootfsPropagation, "propagation");
    }
    if (l.maskedPaths) {
      for (size_t i = 0; i < l.maskedPaths->size(); ++i) {
        abs_path(index("linux.maskedPaths", i), (*l.maskedPaths)[i]);
      }
    }
    if (l.readonlyPaths) {
      for (size_t i = 0; i < l.readonlyPaths->size(); ++i) {
        abs_path(index("linux.readonlyPaths", i), (*l.readonlyPaths)[i]);
      }
    }
    if (l.personality) {
      known("linux.personality.domain", personality_domains(), l.personality->domain, "domain");
      if (l.personality->flags) {
        for (size_t i = 0; i < l.personality->flags->size(); ++i) {
          add(index("linux.personality.flags", i),
              "unknown flag " + quote((*l.personality->flags)[i]) + " (no flags are defined)");
        }
      }
    }
  }

 public:
  void resources(const Resources& r, const std::string& path) {
    if (r.devices) {
      for (size_t i = 0; i < r.devices->size(); ++i) {
        const DeviceCgroup& d = (*r.devices)[i];
        const std::string dp = index(join(path, "devices"), i);
        if (d.type && *d.type != "a" && *d.type != "c" && *d.type != "b") {
          add(join(dp, "type"), "unknown device type " + quote(*d.type) + " (want a, c or b)");
        }
        if (d.access && (d.access->find_first_not_of("rwm") != std::string::npos)) {
          add(join(dp, "access"),
              "must contain only the letters r, w and m, got " + quote(*d.access));
        }
      }
    }
    if (r.memory && r.memory->swappiness && *r.memory->swappiness > 100) {
      add(join(path, "memory.swappiness"),
          "must be in [0, 100], got " + std::to_string(*r.memory->swappiness));
    }
    if (r.cpu) {
      if (r.cpu->cpus && !cpu_list_ok(*r.cpu->cpus)) {
        add(join(path, "cpu.cpus"),
            "must be a CPU list like \"0-3,7\", got " + quote(*r.cpu->cpus));
      }
      if (r.cpu->mems && !cpu_list_ok(*r.cpu->mems)) {
        add(join(path, "cpu.mems"), "must be a node list like \"0-1\", got " + quote(*r.cpu->mems));
      }
    }
    if (r.blockIO) {
      const std::string bp = join(path, "blockIO");
      auto weight = [&](const std::string& p, const std::optional<uint16_t>& w) {
        if (w && *w != 0) range<int>(p, *w, 10, 1000);
      };
      weight(join(bp, "weight"), r.blockIO->weight);
      weight(join(bp, "leafWeight"), r.blockIO->leafWeight);
      if (r.blockIO->weightDevice) {
        for (size_t i = 0; i < r.blockIO->weightDevice->size(); ++i) {
          const auto& wd = (*r.blockIO->weightDevice)[i];
          const std::string wp = index(join(bp, "weightDevice"), i);
          weight(join(wp, "weight"), wd.weight);
          weight(join(wp, "leafWeight"), wd.leafWeight);
        }
      }
    }
    if (r.hugepageLimits) {
      for (size_t i = 0; i < r.hugepageLimits->size(); ++i) {
        const std::string& ps = (*r.hugepageLimits)[i].pageSize;
        if (!page_size_ok(ps)) {
          add(join(index(join(path, "hugepageLimits"), i), "pageSize"),
              "must be a size like \"2MB\" or \"1GB\", got " + quote(ps));
        }
      }
    }
    if (r.unified) {
      for (const auto& [k, v] : *r.unified) {
        if (k.empty() || k.find('/') != std::string::npos || k.find('.') == std::string::npos) {
          add(key(join(path, "unified"), k), "must be a cgroup v2 file name like \"memory.max\"");
        }
      }
    }
  }

 private:
  void seccomp(const Seccomp& s) {
    const std::string sp = "linux.seccomp";
    bool uses_notify = s.defaultAction == "SCMP_ACT_NOTIFY";
    if (s.defaultAction.empty()) {
      add(join(sp, "defaultAction"), "is required");
    } else if (!contains(seccomp_actions(), s.defaultAction)) {
      add(join(sp, "defaultAction"), "unknown action " + quote(s.defaultAction));
    } else if (uses_notify) {
      add(join(sp, "defaultAction"), "SCMP_ACT_NOTIFY cannot be the default action");
    }
    if (s.defaultErrnoRet && s.defaultAction != "SCMP_ACT_ERRNO" &&
        s.defaultAction != "SCMP_ACT_TRACE") {
      add(join(sp, "defaultErrnoRet"), "only valid with SCMP_ACT_ERRNO or SCMP_ACT_TRACE");
    }
    if (s.architectures) {
      for (size_t i = 0; i < s.architectures->size(); ++i) {
        known(index(join(sp, "architectures"), i), seccomp_archs(), (*s.architectures)[i],
              "architecture");
      }
    }
    if (s.flags) {
      for (size_t i = 0; i < s.flags->size(); ++i) {
        known(index(join(sp, "flags"), i), seccomp_flags(), (*s.flags)[i], "flag");
      }
    }
    if (s.syscalls) {
      for (size_t i = 0; i < s.syscalls->size(); ++i) {
        const SeccompSyscall& sc = (*s.syscalls)[i];
        const std::string cp = index(join(sp, "syscalls"), i);
        if (sc.names.empty()) add(join(cp, "names"), "must contain at least one element");
        for (size_t j = 0; j < sc.names.size(); ++j) {
          if (sc.names[j].empty()) add(index(join(cp, "names"), j), "must not be empty");
        }
        known(join(cp, "action"), seccomp_actions(), sc.action, "action");
        if (sc.action == "SCMP_ACT_NOTIFY") uses_notify = true;
        if (sc.errnoRet && sc.action != "SCMP_ACT_ERRNO" && sc.action != "SCMP_ACT_TRACE") {
          add(join(cp, "errnoRet"), "only valid with SCMP_ACT_ERRNO or SCMP_ACT_TRACE");
        }
        if (sc.args) {
          for (size_t k = 0; k < sc.args->size(); ++k) {
            const SeccompArg& a = (*sc.args)[k];
            const std::string ap = index(join(cp, "args"), k);
            if (a.index > 5)
              add(join(ap, "index"), "must be in [0, 5], got " + std::to_string(a.index));
            known(join(ap, "op"), seccomp_operators(), a.op, "operator");
          }
        }
      }
    }
    if (uses_notify && (!s.listenerPath || s.listenerPath->empty())) {
      add(join(sp, "listenerPath"), "is required when an action is SCMP_ACT_NOTIFY");
    }
    if (s.listenerPath && !s.listenerPath->empty() && !is_abs(*s.listenerPath)) {
      add(join(sp, "listenerPath"), "must be an absolute path");
    }
  }

 public:
  void vm(const VM& v) {
    if (v.hypervisor) abs_path("vm.hypervisor.path", v.hypervisor->path);
    abs_path("vm.kernel.path", v.kernel.path);
    if (v.kernel.initrd) abs_path("vm.kernel.initrd", *v.kernel.initrd);
    if (v.image) {
      abs_path("vm.image.path", v.image->path);
      static constexpr std::string_view kFormats[] = {"raw", "qcow2", "vdi", "vmdk", "vhd"};
      known("vm.image.format", kFormats, v.image->format, "format");
    }
  }
};

}  // namespace

std::vector<Violation> validate(const Spec& spec, const ValidateOptions& opts) {
  Checker c;
  if (spec.ociVersion.empty()) {
    c.add("ociVersion", "is required");
  } else if (auto major = semver_major(spec.ociVersion); !major) {
    c.add("ociVersion", "must be a semantic version like \"1.2.0\", got " + quote(spec.ociVersion));
  } else if (*major != 1) {
    c.add("ociVersion", "must be 1.x.y, got " + quote(spec.ociVersion));
  }
  if (!spec.root) {
    c.add("root", "is required");
  } else if (spec.root->path.empty()) {
    c.add("root.path", "is required");
  }
  if (spec.mounts) c.mounts(*spec.mounts);
  if (spec.process) {
    c.process(*spec.process, "process");
  } else if (opts.require_process) {
    c.add("process", "is required");
  }
  if (spec.hooks) c.hooks(*spec.hooks);
  if (spec.annotations) c.annotations(*spec.annotations);
  c.linux(spec.linux.value_or(Linux{}), spec);
  if (spec.vm) c.vm(*spec.vm);
  return std::move(c.out);
}

std::vector<Violation> validate_process(const Process& process, std::string_view path) {
  Checker c;
  c.process(process, std::string(path));
  return std::move(c.out);
}

std::vector<Violation> validate_resources(const Resources& resources, std::string_view path) {
  Checker c;
  c.resources(resources, std::string(path));
  return std::move(c.out);
}

std::string to_string(const Violation& v) {
  return v.path.empty() ? v.reason : v.path + ": " + v.reason;
}

std::string format_violations(const std::vector<Violation>& violations) {
  std::string s;
  for (const auto& v : violations) {
    if (!s.empty()) s += '\n';
    s += to_string(v);
  }
  return s;
}

}  // namespace runvm::oci
