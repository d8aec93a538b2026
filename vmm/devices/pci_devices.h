// Adds runvm's PCI devices beyond the legacy PC set: virtio-rng and
// pvpanic-pci always, virtio-vsock when cfg.vsock_cid is set (host side on the
// unix socket cfg.vsock_uds), virtio-net when cfg.net is set (it takes over
// the tap fd). Each virtio device is wrapped in the virtio-pci transport and
// handed to the PCI root. Called once during setup, before the vCPUs run; the
// devices live as long as the DeviceManager's PCI root.
#pragma once

#include "base/result.h"
#include "vmm/devices/device_manager.h"
#include "vmm/vm_config.h"

namespace runvm::vmm {

[[nodiscard]] Status add_pci_devices(DeviceManager& dm, const VmConfig& cfg);

}  // namespace runvm::vmm
