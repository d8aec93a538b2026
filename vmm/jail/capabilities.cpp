#include "vmm/jail/capabilities.h"

#include <grp.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <string>

namespace runvm::vmm::jail {

namespace {

// CHOWN: created files get the guest caller's ids. DAC_OVERRIDE, FOWNER,
// DAC_READ_SEARCH: acting for guest root on files it owns in the guest's view
// (and linking through AT_EMPTY_PATH). FSETID: keep setgid bits across chmod.
// SETFCAP: file capabilities a container rootfs holds (share_policy.h). No
// MKNOD: the guest may not make device nodes (share_policy.h), and overlayfs
// whiteouts (char 0:0, RENAME_WHITEOUT) need no capability since Linux 5.8.
constexpr cap_value_t kKept[] = {CAP_CHOWN,  CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH,
                                 CAP_FOWNER, CAP_FSETID,       CAP_SETFCAP};

struct CapFree {
  void operator()(cap_t c) const { cap_free(c); }
};

bool kept(cap_value_t c) {
  return std::find(std::begin(kKept), std::end(kKept), c) != std::end(kKept);
}

}  // namespace

std::span<const cap_value_t> vmm_kept_capabilities() {
  return kKept;
}

Status drop_vmm_capabilities() {
  std::unique_ptr<_cap_struct, CapFree> now(cap_get_proc());
  if (!now) return Error::from_errno("capabilities: cap_get_proc");
  cap_flag_value_t setpcap = CAP_CLEAR;
  cap_get_flag(now.get(), CAP_SETPCAP, CAP_EFFECTIVE, &setpcap);
  // The bounding set first: dropping from it needs CAP_SETPCAP, dropped below.
  if (setpcap == CAP_SET) {
    for (cap_value_t c = 0; c <= CAP_LAST_CAP; ++c) {
      if (kept(c) || !CAP_IS_SUPPORTED(c)) continue;
      if (cap_drop_bound(c) != 0) {
        int e = errno;
        char* name = cap_to_name(c);
        std::string what =
            "capabilities: drop " + std::string(name ? name : "?") + " from the bounding set";
        cap_free(name);
        return Error::from_errno(what, e);
      }
    }
  }
  if (cap_reset_ambient() != 0 && errno != EINVAL)
    return Error::from_errno("capabilities: clear the ambient set");
  std::unique_ptr<_cap_struct, CapFree> next(cap_init());
  if (!next) return Error::from_errno("capabilities: cap_init");
  for (cap_value_t c : kKept) {
    cap_flag_value_t permitted = CAP_CLEAR;
    cap_get_flag(now.get(), c, CAP_PERMITTED, &permitted);
    if (permitted != CAP_SET) continue;
    cap_set_flag(next.get(), CAP_EFFECTIVE, 1, &c, CAP_SET);
    cap_set_flag(next.get(), CAP_PERMITTED, 1, &c, CAP_SET);
  }
  if (cap_set_proc(next.get()) != 0) return Error::from_errno("capabilities: cap_set_proc");
  return {};
}

Status switch_vmm_user(uint32_t uid, uint32_t gid) {
  // setuid away from 0 clears the permitted set unless KEEPCAPS is on (and the
  // effective set always): keep them for drop_vmm_capabilities() to trim.
  if (::prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) return Error::from_errno("user: PR_SET_KEEPCAPS");
  if (::setgroups(0, nullptr) != 0) return Error::from_errno("user: setgroups");
  if (::setresgid(gid, gid, gid) != 0)
    return Error::from_errno("user: setresgid " + std::to_string(gid));
  if (::setresuid(uid, uid, uid) != 0)
    return Error::from_errno("user: setresuid " + std::to_string(uid));
  if (::prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) != 0) return Error::from_errno("user: PR_SET_KEEPCAPS");
  std::unique_ptr<_cap_struct, CapFree> caps(cap_get_proc());
  if (!caps) return Error::from_errno("user: cap_get_proc");
  for (cap_value_t c = 0; c <= CAP_LAST_CAP; ++c) {
    cap_flag_value_t permitted = CAP_CLEAR;
    if (cap_get_flag(caps.get(), c, CAP_PERMITTED, &permitted) == 0 && permitted == CAP_SET)
      cap_set_flag(caps.get(), CAP_EFFECTIVE, 1, &c, CAP_SET);
  }
  if (cap_set_proc(caps.get()) != 0)
    return Error::from_errno("user: restore effective capabilities");
  return {};
}

}  // namespace runvm::vmm::jail
