#include "runtime/net/net_attach.h"

#include "runtime/net/attach_plan.h"
#include "runtime/net/net_snapshot.h"
#include "runtime/net/tap_device.h"
#include "runtime/net/tc_redirect.h"

namespace runvm::runtime::net {

Result<agent::NetworkConfig> NetAttachment::attach() {
  if (attached()) return config_;
  auto snap = read_snapshot();
  if (!snap) return snap.error().wrap("network attach");
  auto plan = plan_attach(*snap, tap_name_, guest_mac_);
  if (!plan) return plan.error().wrap("network attach");
  if (!*plan) return agent::NetworkConfig{};
  const AttachPlan& p = **plan;
  if (auto ok = set_link_mtu_up(tap_ifindex_, p.guest.mtu); !ok)
    return ok.error().wrap("network attach: tap " + tap_name_);
  if (auto ok = add_redirect(p.link_ifindex, tap_ifindex_); !ok)
    return ok.error().wrap("network attach: redirect " + p.link_name + " <-> " + tap_name_);
  link_ifindex_ = p.link_ifindex;
  link_name_ = p.link_name;
  config_.interfaces = {p.guest};
  return config_;
}

Status NetAttachment::detach() {
  if (!attached()) return {};
  // The tap's own qdisc goes with the tap; the veth's stays unless removed.
  if (auto ok = remove_ingress(link_ifindex_); !ok) return ok;
  (void)remove_ingress(tap_ifindex_);
  link_ifindex_ = 0;
  return {};
}

}  // namespace runvm::runtime::net
