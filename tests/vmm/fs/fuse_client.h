// Test helper: builds raw FUSE requests the way a guest driver lays them out,
// runs them through a FuseServer and decodes the replies.
#pragma once

#include <linux/fuse.h>
#include <sys/uio.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "vmm/devices/virtio/fs/fuse_server.h"

namespace runvm::vmm::virtio::fs::testing {

using Bytes = std::vector<uint8_t>;

template <typename T>
void put(Bytes* b, const T& v) {
  const auto* p = reinterpret_cast<const uint8_t*>(&v);
  b->insert(b->end(), p, p + sizeof(T));
}
inline void put_str(Bytes* b, const std::string& s) {
  b->insert(b->end(), s.begin(), s.end());
  b->push_back(0);
}

struct Reply {
  size_t written = 0;  // bytes the server wrote (0 = no reply)
  fuse_out_header hdr{};
  Bytes body;
  int error() const { return hdr.error; }
  template <typename T>
  T as(size_t off = 0) const {
    // Short replies (older protocol layouts) fill a prefix; the rest stays zero.
    T v{};
    if (off < body.size())
      std::memcpy(&v, body.data() + off, std::min(sizeof(T), body.size() - off));
    return v;
  }
};

class FuseClient {
 public:
  explicit FuseClient(std::shared_ptr<FileSystem> fs, FuseServerOptions opts = {})
      : server_(std::move(fs), opts) {}

  FuseServer& server() { return server_; }
  uint32_t uid = 0, gid = 0;

  // A full message: header (len computed unless len_override) + body, split
  // into chunks of `in_chunk` bytes; the reply room split into `out_chunk`s.
  Reply call(uint32_t opcode, uint64_t node, const Bytes& body, size_t out_room = (1 << 20) + 4096,
             size_t in_chunk = 0, size_t out_chunk = 0) {
    fuse_in_header h{};
    h.len = static_cast<uint32_t>(sizeof(h) + body.size());
    h.opcode = opcode;
    h.unique = ++unique_;
    h.nodeid = node;
    h.uid = uid;
    h.gid = gid;
    h.pid = 42;
    Bytes msg;
    put(&msg, h);
    msg.insert(msg.end(), body.begin(), body.end());
    return raw(msg, out_room, in_chunk, out_chunk);
  }

  Reply raw(const Bytes& msg, size_t out_room, size_t in_chunk = 0, size_t out_chunk = 0) {
    Bytes in = msg;
    Bytes out(out_room);
    std::vector<iovec> iv = split(in.data(), in.size(), in_chunk);
    std::vector<iovec> ov = split(out.data(), out.size(), out_chunk);
    ChainReader r(iv);
    ChainWriter w(ov);
    Reply rep;
    rep.written = server_.handle(r, w);
    if (rep.written >= sizeof(fuse_out_header)) {
      std::memcpy(&rep.hdr, out.data(), sizeof(rep.hdr));
      rep.body.assign(out.begin() + sizeof(fuse_out_header), out.begin() + rep.written);
    }
    return rep;
  }

  Reply init(uint32_t minor = 31, uint32_t flags = 0xffffffff) {
    fuse_init_in in{};
    in.major = 7;
    in.minor = minor;
    in.max_readahead = 128 * 1024;
    in.flags = flags;
    Bytes b;
    put(&b, in);
    return call(FUSE_INIT, 0, b);
  }

  Reply lookup(uint64_t parent, const std::string& name) {
    Bytes b;
    put_str(&b, name);
    return call(FUSE_LOOKUP, parent, b);
  }
  // A LOOKUP's "no such name": ENOENT, or a negative entry (node id 0) the guest may cache.
  static bool missing(const Reply& r) {
    return r.error() == -ENOENT || (r.error() == 0 && r.as<fuse_entry_out>().nodeid == 0);
  }
  // Node id of a successful lookup, 0 otherwise.
  uint64_t node_of(uint64_t parent, const std::string& name) {
    Reply r = lookup(parent, name);
    return r.error() == 0 ? r.as<fuse_entry_out>().nodeid : 0;
  }
  Reply getattr(uint64_t node) {
    Bytes b;
    put(&b, fuse_getattr_in{});
    return call(FUSE_GETATTR, node, b);
  }
  Reply mkdir(uint64_t parent, const std::string& name, uint32_t mode = 0755) {
    Bytes b;
    put(&b, fuse_mkdir_in{mode, 0});
    put_str(&b, name);
    return call(FUSE_MKDIR, parent, b);
  }
  Reply create(uint64_t parent, const std::string& name, uint32_t flags, uint32_t mode = 0644) {
    fuse_create_in in{};
    in.flags = flags;
    in.mode = S_IFREG | mode;
    Bytes b;
    put(&b, in);
    put_str(&b, name);
    return call(FUSE_CREATE, parent, b);
  }
  Reply open(uint64_t node, uint32_t flags) {
    Bytes b;
    put(&b, fuse_open_in{flags, 0});
    return call(FUSE_OPEN, node, b);
  }
  Reply opendir(uint64_t node) {
    Bytes b;
    put(&b, fuse_open_in{0, 0});
    return call(FUSE_OPENDIR, node, b);
  }
  Reply write(uint64_t node, uint64_t fh, uint64_t off, const std::string& data) {
    fuse_write_in in{};
    in.fh = fh;
    in.offset = off;
    in.size = static_cast<uint32_t>(data.size());
    Bytes b;
    put(&b, in);
    b.insert(b.end(), data.begin(), data.end());
    return call(FUSE_WRITE, node, b);
  }
  Reply read(uint64_t node, uint64_t fh, uint64_t off, uint32_t size) {
    fuse_read_in in{};
    in.fh = fh;
    in.offset = off;
    in.size = size;
    Bytes b;
    put(&b, in);
    return call(FUSE_READ, node, b);
  }
  std::string read_str(uint64_t node, uint64_t fh, uint64_t off, uint32_t size) {
    Reply r = read(node, fh, off, size);
    return std::string(r.body.begin(), r.body.end());
  }
  Reply release(uint64_t node, uint64_t fh, bool dir = false) {
    fuse_release_in in{};
    in.fh = fh;
    Bytes b;
    put(&b, in);
    return call(dir ? FUSE_RELEASEDIR : FUSE_RELEASE, node, b);
  }
  Reply name_op(uint32_t opcode, uint64_t parent, const std::string& name) {
    Bytes b;
    put_str(&b, name);
    return call(opcode, parent, b);
  }
  void forget(uint64_t node, uint64_t n) {
    Bytes b;
    put(&b, fuse_forget_in{n});
    call(FUSE_FORGET, node, b);
  }

 private:
  static std::vector<iovec> split(uint8_t* p, size_t n, size_t chunk) {
    std::vector<iovec> v;
    if (chunk == 0) chunk = n ? n : 1;
    for (size_t off = 0; off < n; off += chunk) v.push_back({p + off, std::min(chunk, n - off)});
    return v;
  }

  FuseServer server_;
  uint64_t unique_ = 0;
};

}  // namespace runvm::vmm::virtio::fs::testing
