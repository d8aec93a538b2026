// Test helper: builds 9P2000.L T-messages, runs them through a P9Server and
// decodes the R-messages.
#pragma once

#include <sys/uio.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "vmm/devices/virtio/p9/p9_server.h"

namespace runvm::vmm::virtio::p9::testing {

struct Rmsg {
  size_t written = 0;
  uint8_t type = 0;
  uint16_t tag = 0;
  std::vector<uint8_t> body;
  size_t pos = 0;
  // Rlerror's errno, 0 for any other reply.
  uint32_t error() const {
    if (type != 7 || body.size() < 4) return 0;
    uint32_t e;
    std::memcpy(&e, body.data(), 4);
    return e;
  }
  uint64_t get(size_t n) {
    uint64_t v = 0;
    for (size_t i = 0; i < n && pos < body.size(); ++i) v |= uint64_t{body[pos++]} << (8 * i);
    return v;
  }
  std::string str() {
    size_t n = get(2);
    std::string s(reinterpret_cast<const char*>(body.data() + pos), std::min(n, body.size() - pos));
    pos += s.size();
    return s;
  }
  void skip(size_t n) { pos += n; }
};

class Tmsg {
 public:
  Tmsg& u8(uint8_t v) { return put(v, 1); }
  Tmsg& u16(uint16_t v) { return put(v, 2); }
  Tmsg& u32(uint32_t v) { return put(v, 4); }
  Tmsg& u64(uint64_t v) { return put(v, 8); }
  Tmsg& str(const std::string& s) {
    u16(static_cast<uint16_t>(s.size()));
    b.insert(b.end(), s.begin(), s.end());
    return *this;
  }
  Tmsg& raw(const std::string& s) {
    b.insert(b.end(), s.begin(), s.end());
    return *this;
  }
  std::vector<uint8_t> b;

 private:
  Tmsg& put(uint64_t v, size_t n) {
    for (size_t i = 0; i < n; ++i) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
    return *this;
  }
};

class P9Client {
 public:
  explicit P9Client(std::shared_ptr<fs::FileSystem> fs) : server_(std::move(fs)) {}
  P9Server& server() { return server_; }

  Rmsg call(uint8_t type, const Tmsg& body, size_t room = 1 << 20, int64_t size_override = -1) {
    std::vector<uint8_t> msg;
    uint32_t size = size_override >= 0 ? static_cast<uint32_t>(size_override) : 7 + body.b.size();
    for (int i = 0; i < 4; ++i) msg.push_back(static_cast<uint8_t>(size >> (8 * i)));
    msg.push_back(type);
    ++tag_;
    msg.push_back(static_cast<uint8_t>(tag_));
    msg.push_back(static_cast<uint8_t>(tag_ >> 8));
    msg.insert(msg.end(), body.b.begin(), body.b.end());
    return raw(msg, room);
  }
  Rmsg raw(std::vector<uint8_t> msg, size_t room) {
    std::vector<uint8_t> out(room);
    iovec iv{msg.data(), msg.size()}, ov{out.data(), out.size()};
    ChainReader r({&iv, 1});
    ChainWriter w({&ov, 1});
    Rmsg rep;
    rep.written = server_.handle(r, w);
    if (rep.written >= 7) {
      uint32_t size;
      std::memcpy(&size, out.data(), 4);
      rep.type = out[4];
      std::memcpy(&rep.tag, out.data() + 5, 2);
      rep.body.assign(out.begin() + 7, out.begin() + rep.written);
    }
    return rep;
  }

  Rmsg version(uint32_t msize = 65536, const std::string& v = "9P2000.L") {
    return call(100, Tmsg().u32(msize).str(v));
  }
  Rmsg attach(uint32_t fid, uint32_t uid = 0) {
    return call(104, Tmsg().u32(fid).u32(~0u).str("root").str("").u32(uid));
  }
  Rmsg walk(uint32_t fid, uint32_t newfid, const std::vector<std::string>& names) {
    Tmsg t;
    t.u32(fid).u32(newfid).u16(static_cast<uint16_t>(names.size()));
    for (const auto& n : names) t.str(n);
    return call(110, t);
  }
  Rmsg lopen(uint32_t fid, uint32_t flags) { return call(12, Tmsg().u32(fid).u32(flags)); }
  Rmsg lcreate(uint32_t fid, const std::string& name, uint32_t flags, uint32_t mode = 0644) {
    return call(14, Tmsg().u32(fid).str(name).u32(flags).u32(mode).u32(0));
  }
  Rmsg read(uint32_t fid, uint64_t off, uint32_t count) {
    return call(116, Tmsg().u32(fid).u64(off).u32(count));
  }
  Rmsg write(uint32_t fid, uint64_t off, const std::string& data) {
    return call(118, Tmsg().u32(fid).u64(off).u32(static_cast<uint32_t>(data.size())).raw(data));
  }
  Rmsg clunk(uint32_t fid) { return call(120, Tmsg().u32(fid)); }
  std::string read_str(uint32_t fid, uint64_t off, uint32_t count) {
    Rmsg r = read(fid, off, count);
    if (r.type != 117) return "<error>";
    size_t n = r.get(4);
    return std::string(reinterpret_cast<const char*>(r.body.data() + 4), n);
  }

 private:
  P9Server server_;
  uint16_t tag_ = 0;
};

}  // namespace runvm::vmm::virtio::p9::testing
