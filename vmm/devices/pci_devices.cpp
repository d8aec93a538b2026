#include "vmm/devices/pci_devices.h"

#include <memory>

#include "base/unique_fd.h"
#include "vmm/devices/pvpanic/pvpanic_pci.h"
#include "vmm/devices/virtio/fs/virtio_fs.h"
#include "vmm/devices/virtio/net/virtio_net.h"
#include "vmm/devices/virtio/p9/virtio_9p.h"
#include "vmm/devices/virtio/rng/rng.h"
#include "vmm/devices/virtio/transport/virtio_pci.h"
#include "vmm/devices/virtio/vsock/vsock.h"

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

Status add_pci_devices(DeviceManager& dm, const VmConfig& cfg) {
  if (Status st = add_virtio(dm, std::make_shared<virtio::VirtioRng>()); !st) return st;

  VmStop* stop = &dm.vm_stop();
  auto pvpanic = std::make_shared<PvPanicPci>(
      [stop] { stop->request(StopReason::GuestPanic, "guest kernel panic (pvpanic)"); });
  if (auto slot = dm.pci_root().add_device(pvpanic); !slot)
    return slot.error().wrap("add pvpanic-pci");

  if (cfg.vsock_cid) {
    if (cfg.vsock_uds.empty())
      return Error("virtio-vsock: --vsock-uds is required with --vsock-cid");
    auto vsock = virtio::VirtioVsock::create(*cfg.vsock_cid, cfg.vsock_uds, dm.event_loop());
    if (!vsock) return vsock.error().wrap("add virtio-vsock");
    if (Status st = add_virtio(dm, *vsock); !st) return st;
  }
  if (cfg.net) {
    auto net = virtio::VirtioNet::create(UniqueFd(cfg.net->tap_fd), cfg.net->mac, cfg.net->mtu,
                                         dm.event_loop());
    if (!net)
      return net.error().wrap("add virtio-net (tap fd " + std::to_string(cfg.net->tap_fd) + ")");
    if (Status st = add_virtio(dm, *net); !st) return st;
  }
  for (const SharedDir& sd : cfg.shared_dirs) {
    std::string err;
    bool fs = sd.kind == SharedDir::Kind::VirtioFs;
    const virtio::fs::ShareOptions opts{sd.read_only, sd.content, sd.cache};
    auto dev = fs ? virtio::fs::make_virtio_fs(sd.tag, sd.dir, opts, &err)
                  : virtio::p9::make_virtio_9p(sd.tag, sd.dir, opts, &err);
    std::string what = std::string(fs ? "virtio-fs " : "virtio-9p ") + sd.tag + "=" + sd.dir;
    if (!dev) return Error(err).wrap("add " + what);
    if (Status st = add_virtio(dm, std::move(dev)); !st) return st.error().wrap(what);
  }
  return {};
}

}  // namespace runvm::vmm
