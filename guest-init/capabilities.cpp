#include "guest-init/capabilities.h"

#include <sys/capability.h>
#include <sys/prctl.h>

#include <algorithm>

#include "oci/names.h"

namespace runvm::guest {
namespace {

int last_cap() {
  int n = static_cast<int>(cap_max_bits()) - 1;
  return n > 0 ? n : CAP_LAST_CAP;
}

Status resolve_set(const std::optional<oci::StringList>& names, const char* set,
                   std::vector<int>& out) {
  if (!names) return {};
  for (const auto& n : *names) {
    auto v = oci::capability_number(n);
    if (!v) return Error(std::string("capabilities.") + set + ": unknown capability \"" + n + "\"");
    if (*v > last_cap()) continue;  // the kernel does not know it: nothing to grant
    if (std::find(out.begin(), out.end(), *v) == out.end()) out.push_back(*v);
  }
  return {};
}

bool has(const std::vector<int>& v, int c) {
  return std::find(v.begin(), v.end(), c) != v.end();
}

}  // namespace

Result<CapSets> resolve_capabilities(const oci::Capabilities& caps) {
  CapSets s;
  if (auto r = resolve_set(caps.bounding, "bounding", s.bounding); !r) return r.error();
  if (auto r = resolve_set(caps.effective, "effective", s.effective); !r) return r.error();
  if (auto r = resolve_set(caps.inheritable, "inheritable", s.inheritable); !r) return r.error();
  if (auto r = resolve_set(caps.permitted, "permitted", s.permitted); !r) return r.error();
  if (auto r = resolve_set(caps.ambient, "ambient", s.ambient); !r) return r.error();
  return s;
}

Status apply_bounding_set(const CapSets& s) {
  for (int c = 0; c <= last_cap(); ++c) {
    if (has(s.bounding, c)) continue;
    if (cap_drop_bound(static_cast<cap_value_t>(c)) < 0 && errno != EINVAL)
      return Error::from_errno("drop capability " + std::to_string(c) + " from the bounding set");
  }
  return {};
}

Status apply_process_capabilities(const CapSets& s) {
  cap_t c = cap_init();
  if (!c) return Error::from_errno("cap_init");
  auto set = [&](const std::vector<int>& caps, cap_flag_t flag) {
    for (int v : caps) {
      cap_value_t cv = static_cast<cap_value_t>(v);
      if (cap_set_flag(c, flag, 1, &cv, CAP_SET) < 0) return false;
    }
    return true;
  };
  bool ok = set(s.effective, CAP_EFFECTIVE) && set(s.permitted, CAP_PERMITTED) &&
            set(s.inheritable, CAP_INHERITABLE);
  int rc = ok ? cap_set_proc(c) : -1;
  int e = errno;
  cap_free(c);
  if (rc < 0) return Error::from_errno("set capabilities (effective, permitted, inheritable)", e);
  if (cap_reset_ambient() < 0 && errno != EINVAL)
    return Error::from_errno("reset ambient capabilities");
  for (int v : s.ambient) {
    // The kernel only allows ambient caps that are permitted and inheritable
    // (EPERM otherwise). runc skips those, and its own default spec lists
    // ambient caps with no inheritable set, so a config runc runs must run here.
    if (cap_set_ambient(static_cast<cap_value_t>(v), CAP_SET) < 0 && errno != EPERM)
      return Error::from_errno("raise ambient capability " + std::to_string(v));
  }
  return {};
}

}  // namespace runvm::guest
