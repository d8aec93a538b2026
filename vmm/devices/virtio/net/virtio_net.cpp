// VirtioNet: lifecycle, config space, feature negotiation and the tap's
// event-loop registration. The data paths are in net_tx.cpp and net_rx.cpp.
#include "vmm/devices/virtio/net/virtio_net.h"

#include <fcntl.h>
#include <linux/if_tun.h>  // TUNSETOFFLOAD
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace runvm::vmm::virtio {

namespace {

constexpr int kMaxLogged = 16;

}  // namespace

Result<std::shared_ptr<VirtioNet>> VirtioNet::create(UniqueFd tap, std::array<uint8_t, 6> mac,
                                                     uint16_t mtu, EventLoop& loop) {
  if (!tap.valid()) return Error("virtio-net: no tap fd");
  if (mtu != 0 && mtu < kMinMtu)
    return Error("virtio-net: mtu " + std::to_string(mtu) + " is below " + std::to_string(kMinMtu));
  if (mac[0] & 1) return Error("virtio-net: the MAC address is a multicast address");
  struct stat st;
  if (fstat(tap.get(), &st) != 0) return Error::from_errno("virtio-net: fstat tap fd");
  UniqueFd resume(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  if (!resume.valid()) return Error::from_errno("virtio-net: eventfd");
  std::shared_ptr<VirtioNet> dev(new VirtioNet(std::move(tap), std::move(resume), mac, mtu, loop));
  dev->tap_is_socket_ = S_ISSOCK(st.st_mode);
  return dev;
}

VirtioNet::VirtioNet(UniqueFd tap, UniqueFd tx_resume, std::array<uint8_t, 6> mac, uint16_t mtu,
                     EventLoop& loop)
    : tap_(std::move(tap)),
      tx_resume_(std::move(tx_resume)),
      mac_(mac),
      mtu_(mtu),
      loop_(loop),
      rx_frame_(net::kMaxPacketLen) {}

VirtioNet::~VirtioNet() {
  std::lock_guard lk(mu_);
  unwatch_locked();  // the loop must not call into a dead device
  if (resume_watched_) loop_.remove(tx_resume_.get());
}

void VirtioNet::read_config(uint32_t offset, std::span<uint8_t> data) {
  uint8_t cfg[kConfigSize];
  const uint16_t status = net::kStatusLinkUp, pairs = 1, mtu = mtu_;
  std::memcpy(cfg, mac_.data(), 6);
  std::memcpy(cfg + 6, &status, 2);
  std::memcpy(cfg + 8, &pairs, 2);
  std::memcpy(cfg + 10, &mtu, 2);
  for (size_t i = 0; i < data.size(); ++i) {
    uint64_t at = uint64_t{offset} + i;
    data[i] = at < kConfigSize ? cfg[at] : 0;
  }
}

void VirtioNet::ack_features(uint64_t features) {
  std::lock_guard lk(mu_);
  acked_ = features & kFeatures;
  apply_tap_offloads_locked();
}

void VirtioNet::apply_tap_offloads_locked() {
  unsigned off = net::tap_offloads(acked_);
  // Not a tap (a socket in tests): there are no offloads to set.
  if (ioctl(tap_.get(), TUNSETOFFLOAD, off) != 0 && errno != ENOTTY && errno != EINVAL)
    log_locked(Error::from_errno("TUNSETOFFLOAD " + std::to_string(off)).what(), true);
}

Status VirtioNet::activate(const GuestMemory&, std::vector<std::optional<Queue>> queues,
                           std::shared_ptr<VirtioInterrupt> interrupt) {
  std::lock_guard lk(mu_);
  if (queues.size() != 2 || !queues[kRxQueue] || !queues[kTxQueue])
    return Error("virtio-net: rx and tx queues must be enabled");
  // Never block the event loop or a vCPU: a full tap drops, an empty one waits.
  int fl = fcntl(tap_.get(), F_GETFL);
  if (fl < 0 || fcntl(tap_.get(), F_SETFL, fl | O_NONBLOCK) != 0)
    return Error::from_errno("virtio-net: make the tap fd non-blocking");
  rx_ = std::move(queues[kRxQueue]);
  tx_ = std::move(queues[kTxQueue]);
  interrupt_ = std::move(interrupt);
  if (!resume_watched_) {
    std::weak_ptr<VirtioNet> weak = weak_from_this();
    resume_watched_ = loop_.add(tx_resume_.get(), EPOLLIN, [weak](uint32_t) {
      if (auto self = weak.lock()) self->on_tx_resume();
    });
  }
  if (!resume_watched_ || (!tap_dead_ && !add_watch_locked(EPOLLIN))) {
    Error e = Error::from_errno(resume_watched_ ? "virtio-net: watch the tap fd"
                                                : "virtio-net: watch the tx eventfd");
    rx_.reset();
    tx_.reset();
    interrupt_.reset();
    return e;
  }
  process_tx_locked();
  process_rx_locked();
  return {};
}

void VirtioNet::reset() {
  std::lock_guard lk(mu_);
  unwatch_locked();
  // Chains we hold go with the queues: the driver reclaims all its buffers on reset.
  rx_chains_.clear();
  rx_room_ = 0;
  rx_pending_ = 0;
  rx_.reset();
  tx_.reset();
  interrupt_.reset();
  // A driver that comes back may not take GSO frames: the tap must not make them.
  acked_ = 0;
  apply_tap_offloads_locked();
}

void VirtioNet::queue_notify(uint16_t index) {
  std::lock_guard lk(mu_);
  if (!rx_ || !tx_) return;  // before activate() or after reset(): a stale doorbell
  if (index == kTxQueue) process_tx_locked();
  // New rx buffers: deliver a held frame and read the tap again.
  if (index == kRxQueue) process_rx_locked();
}

void VirtioNet::on_tap_event(uint32_t events) {
  std::lock_guard lk(mu_);
  if (!rx_) return;  // collected before reset() removed the fd
  // A hung-up peer stays "ready" even with no events requested: note it so
  // the fd is unregistered instead of left idle (which would spin the loop).
  if (events & (EPOLLHUP | EPOLLERR)) tap_hup_ = true;
  process_rx_locked();
}

bool VirtioNet::add_watch_locked(uint32_t events) {
  // The handler holds a weak reference: an event racing with teardown is dropped.
  std::weak_ptr<VirtioNet> weak = weak_from_this();
  bool ok = loop_.add(tap_.get(), events, [weak](uint32_t ev) {
    if (auto self = weak.lock()) self->on_tap_event(ev);
  });
  if (ok) {
    watched_ = true;
    watched_events_ = events;
  }
  return ok;
}

void VirtioNet::watch_locked(bool want_input) {
  if (!rx_) return;
  if (tap_dead_ || (!want_input && tap_hup_)) {
    unwatch_locked();
    return;
  }
  uint32_t events = want_input ? uint32_t{EPOLLIN} : 0u;
  if (!watched_) {
    if (!add_watch_locked(events)) log_locked(Error::from_errno("watch the tap fd").what());
    return;
  }
  if (watched_events_ == events) return;
  if (loop_.modify(tap_.get(), events))
    watched_events_ = events;
  else
    log_locked(Error::from_errno("change the tap fd's events").what());
}

void VirtioNet::unwatch_locked() {
  if (!watched_) return;
  loop_.remove(tap_.get());
  watched_ = false;
  watched_events_ = 0;
}

void VirtioNet::log_locked(const std::string& msg, bool always) {
  if (!always && logged_ >= kMaxLogged) return;
  if (!always) ++logged_;
  std::fprintf(stderr, "virtio-net: %s%s\n", msg.c_str(),
               !always && logged_ == kMaxLogged ? " (further messages suppressed)" : "");
}

VirtioNet::Stats VirtioNet::stats() {
  std::lock_guard lk(mu_);
  return stats_;
}

bool VirtioNet::rx_frame_pending() {
  std::lock_guard lk(mu_);
  return rx_pending_ > 0;
}

uint32_t VirtioNet::tap_events() {
  std::lock_guard lk(mu_);
  return watched_ ? watched_events_ : kNotWatched;
}

}  // namespace runvm::vmm::virtio
