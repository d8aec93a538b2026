#include "vmm/devices/virtio/vsock/muxer.h"

#include "vmm/devices/virtio/chain_buffers.h"
#include "vmm/devices/virtio/vsock/trace.h"

#include "base/unix_address.h"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace runvm::vmm::virtio::vsock {

namespace {

// Drops the first `n` bytes of an iovec list.
void iov_skip(std::vector<iovec>& iov, size_t n) {
  size_t i = 0;
  while (i < iov.size() && n >= iov[i].iov_len) n -= iov[i++].iov_len;
  iov.erase(iov.begin(), iov.begin() + static_cast<std::ptrdiff_t>(i));
  if (!iov.empty() && n > 0) {
    iov[0].iov_base = static_cast<uint8_t*>(iov[0].iov_base) + n;
    iov[0].iov_len -= n;
  }
}

// Parses "CONNECT <port>" (the newline already stripped).
bool parse_connect(const std::string& line, uint32_t* port) {
  static constexpr char kPrefix[] = "CONNECT ";
  if (line.compare(0, sizeof kPrefix - 1, kPrefix) != 0) return false;
  std::string num = line.substr(sizeof kPrefix - 1);
  if (!num.empty() && num.back() == '\r') num.pop_back();
  if (num.empty() || num.size() > 10) return false;
  uint64_t v = 0;
  for (char c : num) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  if (v > UINT32_MAX) return false;
  *port = static_cast<uint32_t>(v);
  return true;
}

}  // namespace

int64_t Muxer::now_ms() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1000 + ts.tv_nsec / 1'000'000;
}

Muxer::Muxer(uint64_t guest_cid, std::string uds_path, FdWatcher* watcher)
    : guest_cid_(guest_cid), uds_path_(std::move(uds_path)), watcher_(watcher) {}

Muxer::~Muxer() {
  close_all();
}

void Muxer::close_all() {
  reset();
  for (auto& [fd, p] : pending_hosts_) {
    watcher_->watch(fd, 0);
    close(fd);
  }
  pending_hosts_.clear();
  if (listen_fd_ >= 0) {
    watcher_->watch(listen_fd_, 0);
    close(listen_fd_);
    unlink(uds_path_.c_str());
    listen_fd_ = -1;
  }
}

Status Muxer::listen() {
  auto addr = unix_address(uds_path_);
  if (!addr) return addr.error().wrap("vsock: unix socket '" + uds_path_ + "'");
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return Error::from_errno("vsock: socket");
  // A socket file left by an earlier VMM with this path is stale: replace it.
  struct stat st;
  if (lstat(uds_path_.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) unlink(uds_path_.c_str());
  if (bind(fd, addr->get(), addr->len) != 0) {
    Error e = Error::from_errno("vsock: bind " + uds_path_);
    close(fd);
    return e;
  }
  // Whoever connects can CONNECT to the guest agent and run as root in the guest: owner
  // only, whatever the umask (set before listen(), so nobody connects in between).
  if (chmod(uds_path_.c_str(), 0600) != 0 || ::listen(fd, 128) != 0) {
    Error e = Error::from_errno("vsock: listen " + uds_path_);
    close(fd);
    unlink(uds_path_.c_str());
    return e;
  }
  listen_fd_ = fd;
  watcher_->watch(fd, EPOLLIN);
  return {};
}

const Connection* Muxer::find(uint32_t local_port, uint32_t peer_port) const {
  auto it = conns_.find(key(local_port, peer_port));
  return it == conns_.end() ? nullptr : it->second.get();
}

Connection* Muxer::lookup(Key k) {
  auto it = conns_.find(k);
  return it == conns_.end() ? nullptr : it->second.get();
}

// ---- host side ---------------------------------------------------------------

void Muxer::on_fd_event(int fd, uint32_t events) {
  if (fd == listen_fd_) {
    accept_all();
    return;
  }
  if (pending_hosts_.count(fd)) {
    on_pending_host(fd, events);
    return;
  }
  auto it = by_fd_.find(fd);
  if (it == by_fd_.end()) return;  // stale event for a closed socket
  if (Connection* c = lookup(it->second)) on_conn_event(*c, events);
}

void Muxer::accept_all() {
  for (;;) {
    int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        // Out of descriptors: the listener stays readable, so stop watching it
        // (no busy loop) until one of our sockets is closed.
        watcher_->watch(listen_fd_, 0);
        listener_paused_ = true;
      }
      return;  // EAGAIN, or a transient error: try on the next event
    }
    if (pending_hosts_.size() >= kMaxPendingHosts || conns_.size() >= kMaxConnections) {
      close(fd);
      continue;
    }
    pending_hosts_[fd] = PendingHost{"", now_ms() + kConnectTimeoutMs};
    watcher_->watch(fd, EPOLLIN);
  }
}

void Muxer::on_pending_host(int fd, uint32_t) {
  PendingHost& p = pending_hosts_[fd];
  auto drop = [&] {
    watcher_->watch(fd, 0);
    close(fd);
    pending_hosts_.erase(fd);
    resume_listener();
  };
  // Byte by byte so nothing after the newline (the stream's data) is consumed.
  for (;;) {
    char ch;
    ssize_t n = recv(fd, &ch, 1, MSG_DONTWAIT);
    if (n == 0) return drop();
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      return drop();
    }
    if (ch == '\n') break;
    p.line.push_back(ch);
    if (p.line.size() > kMaxConnectLine) return drop();
  }
  uint32_t port;
  VSOCK_TRACE("host line '%s'\n", p.line.c_str());
  if (!parse_connect(p.line, &port) || conns_.size() >= kMaxConnections) return drop();
  pending_hosts_.erase(fd);
  start_host_connect(fd, port);
}

uint32_t Muxer::alloc_local_port() {
  // Host-initiated connections get ports >= 2^30, away from well-known ones.
  for (;;) {
    uint32_t p = next_local_port_++;
    if (next_local_port_ == 0) next_local_port_ = kFirstLocalPort;
    if (!host_ports_.count(p)) return p;
  }
}

void Muxer::start_host_connect(int fd, uint32_t port) {
  uint32_t local = alloc_local_port();
  auto c = std::make_unique<Connection>(fd, local, port, Connection::State::kLocalInit);
  c->pending |= Connection::kPendRequest;
  c->deadline_ms = now_ms() + kConnectTimeoutMs;
  Connection& ref = *c;
  host_ports_.insert(local);
  by_fd_[fd] = key(local, port);
  conns_[key(local, port)] = std::move(c);
  // Not watched until established: data the client sends early stays queued in
  // the socket.
  watcher_->watch(fd, 0);
  refresh(ref);
}

void Muxer::on_conn_event(Connection& c, uint32_t events) {
  if (events & EPOLLOUT) {
    if (!c.flush_tx()) return reset_conn(c);
    if (c.credit_update_due()) c.pending |= Connection::kPendCreditUpdate;
    if (c.tx_pending() == 0 && c.peer_no_send) shutdown(c.fd(), SHUT_WR);
  }
  if (events & (EPOLLIN | EPOLLHUP | EPOLLERR | EPOLLRDHUP)) {
    if (c.state() == Connection::State::kEstablished && !c.host_eof) c.readable = true;
  }
  maybe_finish(c);
}

void Muxer::on_timer(int64_t now) {
  std::vector<Connection*> expired;
  for (auto& [k, c] : conns_)
    if (c->state() == Connection::State::kLocalInit && c->deadline_ms && now >= c->deadline_ms)
      expired.push_back(c.get());
  for (Connection* c : expired) {
    VSOCK_TRACE("handshake timeout %u:%u\n", c->local_port(), c->peer_port());
    reset_conn(*c);
  }
  std::vector<int> stale;
  for (auto& [fd, p] : pending_hosts_)
    if (now >= p.deadline_ms) stale.push_back(fd);
  for (int fd : stale) {
    watcher_->watch(fd, 0);
    close(fd);
    pending_hosts_.erase(fd);
  }
}

bool Muxer::wants_timer() const {
  if (!pending_hosts_.empty()) return true;
  for (auto& [k, c] : conns_)
    if (c->state() == Connection::State::kLocalInit) return true;
  return false;
}

// ---- guest side --------------------------------------------------------------

void Muxer::queue_rst(const Header& h) {
  if (rst_queue_.size() >= kMaxQueuedRsts) return;  // a flooding guest loses replies
  Header r;
  r.src_cid = kHostCid;
  r.dst_cid = guest_cid_;
  r.src_port = h.dst_port;
  r.dst_port = h.src_port;
  r.type = kTypeStream;
  r.op = kOpRst;
  rst_queue_.push_back(r);
}

void Muxer::on_guest_packet(const TxPacket& pkt) {
  const Header& h = pkt.hdr;
  if (h.op == kOpRequest) return guest_request(h);
  Connection* c = lookup(key(h.dst_port, h.src_port));
  if (!c) {
    if (h.op != kOpRst) queue_rst(h);
    return;
  }
  c->update_peer_credit(h.buf_alloc, h.fwd_cnt);
  switch (h.op) {
    case kOpRst:
      return drop_conn(*c);
    case kOpResponse: {
      if (c->state() != Connection::State::kLocalInit) return reset_conn(*c);
      std::string ok = "OK " + std::to_string(c->local_port()) + "\n";
      ssize_t n = send(c->fd(), ok.data(), ok.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n != static_cast<ssize_t>(ok.size())) return reset_conn(*c);
      c->set_state(Connection::State::kEstablished);
      c->deadline_ms = 0;
      break;
    }
    case kOpRw:
      if (c->state() != Connection::State::kEstablished || c->peer_no_send) return reset_conn(*c);
      if (!c->push_tx(pkt.payload)) return reset_conn(*c);  // overran our credit
      if (!c->flush_tx()) return reset_conn(*c);
      if (c->credit_update_due()) c->pending |= Connection::kPendCreditUpdate;
      break;
    case kOpShutdown:
      if (h.flags & kShutdownSend) c->peer_no_send = true;
      if (h.flags & kShutdownRcv) c->peer_no_recv = true;
      if (c->peer_no_send && c->tx_pending() == 0) shutdown(c->fd(), SHUT_WR);
      break;
    case kOpCreditRequest:
      c->pending |= Connection::kPendCreditUpdate;
      break;
    case kOpCreditUpdate:
    default:
      break;  // the credit was taken above
  }
  maybe_finish(*c);
}

void Muxer::guest_request(const Header& h) {
  Key k = key(h.dst_port, h.src_port);
  if (Connection* old = lookup(k)) {
    // The guest reused a live port pair: it lost track of the old stream.
    reset_conn(*old);
    queue_rst(h);
    return;
  }
  if (conns_.size() >= kMaxConnections) return queue_rst(h);
  auto addr = unix_address(uds_path_ + "_" + std::to_string(h.dst_port));
  if (!addr) return queue_rst(h);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return queue_rst(h);
  // Unix stream connects complete (or fail) immediately.
  if (connect(fd, addr->get(), addr->len) != 0) {
    close(fd);
    return queue_rst(h);
  }
  auto c =
      std::make_unique<Connection>(fd, h.dst_port, h.src_port, Connection::State::kEstablished);
  c->update_peer_credit(h.buf_alloc, h.fwd_cnt);
  c->pending |= Connection::kPendResponse;
  Connection& ref = *c;
  by_fd_[fd] = k;
  conns_[k] = std::move(c);
  refresh(ref);
}

void Muxer::maybe_finish(Connection& c) {
  bool peer_done = c.peer_no_send && (c.peer_no_recv || c.host_eof);
  if (peer_done && c.tx_pending() == 0) {
    // Both directions are finished: RST closes the stream on the guest side.
    return reset_conn(c);
  }
  refresh(c);
}

void Muxer::reset_conn(Connection& c) {
  Header h;
  h.src_port = c.peer_port();  // queue_rst swaps: reply "to" the guest's port
  h.dst_port = c.local_port();
  queue_rst(h);
  drop_conn(c);
}

void Muxer::resume_listener() {
  if (!listener_paused_ || listen_fd_ < 0) return;
  listener_paused_ = false;
  watcher_->watch(listen_fd_, EPOLLIN);
}

void Muxer::drop_conn(Connection& c) {
  resume_listener();
  int fd = c.fd();
  VSOCK_TRACE("drop %u:%u\n", c.local_port(), c.peer_port());
  Key k = key(c.local_port(), c.peer_port());
  watcher_->watch(fd, 0);
  close(fd);
  by_fd_.erase(fd);
  host_ports_.erase(c.local_port());
  conns_.erase(k);  // destroys c; rx_queue_ entries for k are skipped later
}

void Muxer::reset() {
  for (auto& [k, c] : conns_) {
    watcher_->watch(c->fd(), 0);
    close(c->fd());
  }
  conns_.clear();
  by_fd_.clear();
  host_ports_.clear();
  rx_queue_.clear();
  rst_queue_.clear();
}

bool Muxer::has_work(const Connection& c) const {
  if (c.pending) return true;
  return c.readable && c.state() == Connection::State::kEstablished && !c.peer_no_recv &&
         c.peer_free() > 0;
}

void Muxer::refresh(Connection& c) {
  uint32_t want = 0;
  if (c.state() == Connection::State::kEstablished && !c.host_eof && !c.readable && !c.peer_no_recv)
    want |= EPOLLIN;
  if (c.tx_pending() > 0) want |= EPOLLOUT;
  if (want != c.watched_events) {
    watcher_->watch(c.fd(), want);
    c.watched_events = want;
  }
  if (!c.in_rx_queue && has_work(c)) {
    c.in_rx_queue = true;
    rx_queue_.push_back(key(c.local_port(), c.peer_port()));
  }
}

// ---- rx: packets for the guest -----------------------------------------------

uint32_t Muxer::fill_rx(const DescriptorChain& chain) {
  if (chain.writable_len() < sizeof(Header)) return 0;
  if (!rst_queue_.empty()) {
    ChainWriter w(chain);
    if (!w.write_obj(rst_queue_.front())) return 0;
    rst_queue_.pop_front();
    return sizeof(Header);
  }
  while (!rx_queue_.empty()) {
    Key k = rx_queue_.front();
    rx_queue_.pop_front();
    Connection* c = lookup(k);
    if (!c) continue;
    c->in_rx_queue = false;
    uint32_t n = produce(*c, chain);
    if (Connection* still = lookup(k)) refresh(*still);
    if (n > 0) return n;
  }
  return 0;
}

uint32_t Muxer::produce(Connection& c, const DescriptorChain& chain) {
  auto control = [&](uint16_t op, uint32_t flags = 0) -> uint32_t {
    ChainWriter w(chain);
    Header h = c.header(guest_cid_, op, 0, flags);
    return w.write_obj(h) ? sizeof(Header) : 0;
  };
  if (c.pending & Connection::kPendRequest) {
    c.pending &= ~Connection::kPendRequest;
    return control(kOpRequest);
  }
  if (c.pending & Connection::kPendResponse) {
    c.pending &= ~Connection::kPendResponse;
    return control(kOpResponse);
  }
  if (c.pending & Connection::kPendShutdown) {
    c.pending &= ~Connection::kPendShutdown;
    return control(kOpShutdown, c.shutdown_flags);
  }
  if (c.pending & Connection::kPendCreditUpdate) {
    c.pending &= ~Connection::kPendCreditUpdate;
    return control(kOpCreditUpdate);
  }
  if (!has_work(c)) return 0;

  // Data: read from the unix socket straight into the guest's buffer, after
  // room for the header, never more than the guest has credit for.
  uint64_t room = std::min<uint64_t>(
      {chain.writable_len() - sizeof(Header), c.peer_free(), uint64_t{kMaxPayload}});
  if (room == 0) return 0;
  ChainWriter w(chain);
  std::vector<iovec> iov = w.iovecs(sizeof(Header) + room);
  iov_skip(iov, sizeof(Header));
  ssize_t n;
  do {
    n = readv(c.fd(), iov.data(), static_cast<int>(iov.size()));
  } while (n < 0 && errno == EINTR);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
    c.readable = false;  // drained: refresh() re-arms EPOLLIN
    return 0;
  }
  if (n < 0) {
    Header h = c.header(guest_cid_, kOpRst);
    drop_conn(c);
    return w.write_obj(h) ? sizeof(Header) : 0;
  }
  if (n == 0) {
    // The host side will send no more: tell the guest, keep the other direction.
    c.readable = false;
    c.host_eof = true;
    Header h = c.header(guest_cid_, kOpShutdown, 0, kShutdownSend);
    uint32_t out = w.write_obj(h) ? sizeof(Header) : 0;
    if (c.peer_no_send && c.tx_pending() == 0) {
      // Both directions done.
      Header rst;
      rst.src_port = c.peer_port();
      rst.dst_port = c.local_port();
      queue_rst(rst);
      drop_conn(c);
    }
    return out;
  }
  Header h = c.header(guest_cid_, kOpRw, static_cast<uint32_t>(n));
  c.on_sent_to_peer(static_cast<uint32_t>(n));
  if (!w.write_obj(h)) return 0;  // cannot happen: room was checked
  return sizeof(Header) + static_cast<uint32_t>(n);
}

}  // namespace runvm::vmm::virtio::vsock
