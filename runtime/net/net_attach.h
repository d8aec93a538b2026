// Wires the guest NIC's tap to the container's network: in the network namespace
// the supervisor lives in, find the link Docker/CNI configured (attach_plan.h),
// give the tap its MTU, redirect traffic both ways (tc_redirect.h), and return
// what the guest must configure. Runs after the create hooks and again at start
// (whoever fills the namespace may do it at any point before start); a no-op once
// a link is attached.
#pragma once

#include <optional>
#include <string>

#include "agent/network_config.h"
#include "base/result.h"

namespace runvm::runtime::net {

class NetAttachment {
 public:
  NetAttachment(std::string tap_name, int tap_ifindex, std::string guest_mac)
      : tap_name_(std::move(tap_name)),
        tap_ifindex_(tap_ifindex),
        guest_mac_(std::move(guest_mac)) {}

  // Attaches when the namespace has a link to attach and none is attached yet.
  // Returns the guest's configuration (no interfaces: only lo).
  [[nodiscard]] Result<agent::NetworkConfig> attach();
  // Removes the redirect (the tap goes with the VMM's fd). Idempotent.
  [[nodiscard]] Status detach();

  bool attached() const { return link_ifindex_ != 0; }
  int link_ifindex() const { return link_ifindex_; }
  const std::string& link_name() const { return link_name_; }

 private:
  std::string tap_name_;
  int tap_ifindex_ = 0;
  std::string guest_mac_;
  int link_ifindex_ = 0;
  std::string link_name_;
  agent::NetworkConfig config_;
};

}  // namespace runvm::runtime::net
