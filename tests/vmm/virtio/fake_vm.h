// A PciVmServices that records what the transport asked KVM to do.
#pragma once

#include <sys/eventfd.h>
#include <unistd.h>

#include <cstdint>
#include <map>
#include <mutex>
#include <vector>

#include "vmm/pci/pci_device.h"

namespace runvm::vmm::virtio::testing {

class FakeVm : public PciVmServices {
 public:
  struct Route {
    uint64_t address;
    uint32_t data;
  };
  struct Ioevent {
    int fd;
    uint64_t addr;
    uint32_t len;
  };

  int msi_route_add(uint64_t address, uint32_t data) override {
    std::lock_guard lk(mu);
    int gsi = next_gsi++;
    routes[gsi] = {address, data};
    return gsi;
  }
  bool msi_route_update(int gsi, uint64_t address, uint32_t data) override {
    std::lock_guard lk(mu);
    if (!routes.count(gsi)) return false;
    routes[gsi] = {address, data};
    ++route_updates;
    return true;
  }
  bool irqfd_assign(int eventfd, int gsi) override {
    std::lock_guard lk(mu);
    if (fail_irqfd) return false;
    irqfds[gsi] = eventfd;
    return true;
  }
  bool irqfd_deassign(int, int gsi) override {
    std::lock_guard lk(mu);
    irqfds.erase(gsi);
    return true;
  }
  bool ioeventfd_assign(int eventfd, uint64_t addr, uint32_t len) override {
    std::lock_guard lk(mu);
    ioevents.push_back({eventfd, addr, len});
    return true;
  }
  bool ioeventfd_deassign(int eventfd, uint64_t, uint32_t) override {
    std::lock_guard lk(mu);
    std::erase_if(ioevents, [&](const Ioevent& e) { return e.fd == eventfd; });
    return true;
  }
  bool signal_msi(uint64_t address, uint32_t data) override {
    std::lock_guard lk(mu);
    direct_msis.push_back({address, data});
    return true;
  }
  bool set_irq_line(int gsi, bool level) override {
    std::lock_guard lk(mu);
    lines[gsi] = level;
    ++line_changes;
    return true;
  }

  // Interrupts delivered so far through the irqfd of `gsi` (drains the counter).
  uint64_t irqfd_count(int gsi) {
    int fd;
    {
      std::lock_guard lk(mu);
      if (!irqfds.count(gsi)) return 0;
      fd = irqfds[gsi];
    }
    uint64_t n = 0;
    if (::read(fd, &n, sizeof n) != sizeof n) return 0;
    return n;
  }
  // The GSI routed to MSI message `data`, or -1.
  int gsi_for(uint32_t data) {
    std::lock_guard lk(mu);
    for (auto& [gsi, r] : routes)
      if (r.data == data) return gsi;
    return -1;
  }

  std::mutex mu;
  int next_gsi = 24;
  bool fail_irqfd = false;  // KVM_IRQFD refused (as when the host is short of memory)
  std::map<int, Route> routes;
  std::map<int, int> irqfds;  // gsi -> eventfd
  std::vector<Ioevent> ioevents;
  std::vector<Route> direct_msis;
  std::map<int, bool> lines;
  int line_changes = 0;
  int route_updates = 0;
};

}  // namespace runvm::vmm::virtio::testing
