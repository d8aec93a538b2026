#include "vmm/devices/virtio/attach.h"

#include <memory>

#include "vmm/devices/pvpanic/pvpanic_pci.h"
#include "vmm/devices/virtio/rng/rng.h"
#include "vmm/devices/virtio/transport/virtio_pci.h"

namespace runvm::vmm {

namespace {

Status add_virtio(DeviceManager& dm, std::shared_ptr<virtio::VirtioDevice> dev) {
  std::string name = dev->name();
  auto pci =
      std::make_shared<virtio::VirtioPciDevice>(std::move(dev), dm.memory(), &dm.event_loop());
  auto slot = dm.pci_root().add_device(pci);
  if (!slot) return slot.error().wrap("add virtio-" + name);
  return {};
}

}  // namespace

Status add_virtio_devices(DeviceManager& dm, const VmConfig& cfg) {
  if (Status st = add_virtio(dm, std::make_shared<virtio::VirtioRng>()); !st) return st;

  VmStop* stop = &dm.vm_stop();
  auto pvpanic = std::make_shared<PvPanicPci>(
      [stop] { stop->request(StopReason::GuestPanic, "guest kernel panic (pvpanic)"); });
  if (auto slot = dm.pci_root().add_device(pvpanic); !slot)
    return slot.error().wrap("add pvpanic-pci");

  (void)cfg;
  return {};
}

}  // namespace runvm::vmm
