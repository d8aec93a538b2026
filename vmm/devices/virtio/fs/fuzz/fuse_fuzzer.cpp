// libFuzzer target for the FUSE decoder and dispatcher, over a PassthroughFs
// (or a read-only one) on a fresh temporary share per input.
//
// Input: byte 0 selects options (read-only share, skip INIT, reply room,
// scatter size); then messages, each as [le16 length][bytes], fed in order to
// one server so sequences (LOOKUP, then OPEN, then READ...) are reachable.
// After each input the fuzzer checks containment: the directory next to the
// share must be exactly as it was.
#include <fcntl.h>
#include <linux/fuse.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "vmm/devices/virtio/fs/fuse_server.h"
#include "vmm/devices/virtio/fs/fuzz/sentinel_share.h"
#include "vmm/devices/virtio/fs/passthrough_fs.h"
#include "vmm/devices/virtio/fs/read_only_fs.h"

namespace {

namespace fsv = runvm::vmm::virtio::fs;

// Keeps the host disk safe from a fuzzed FALLOCATE of terabytes.
void clamp_fallocate(std::vector<uint8_t>& msg) {
  fuse_in_header h;
  if (msg.size() < sizeof(h) + sizeof(fuse_fallocate_in)) return;
  std::memcpy(&h, msg.data(), sizeof(h));
  if (h.opcode != FUSE_FALLOCATE) return;
  fuse_fallocate_in in;
  std::memcpy(&in, msg.data() + sizeof(h), sizeof(in));
  if (in.offset > (1u << 20)) in.offset = in.offset & 0xfffff;
  if (in.length > (1u << 20)) in.length = in.length & 0xfffff;
  std::memcpy(msg.data() + sizeof(h), &in, sizeof(in));
}

// Splits the first bytes into small buffers (headers and structs straddling
// buffer edges); the rest stays one buffer so big replies stay cheap.
std::vector<iovec> scatter(uint8_t* p, size_t n, size_t chunk) {
  std::vector<iovec> v;
  size_t off = 0;
  if (chunk > 0) {
    for (; off < n && off < 512; off += chunk) v.push_back({p + off, std::min(chunk, n - off)});
  }
  if (off < n) v.push_back({p + off, n - off});
  return v;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  runvm::fuzz::make_share_top("fuse-fuzz");
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t opts = data[0];
  runvm::fuzz::make_share_tree();
  auto pfs = fsv::PassthroughFs::create(runvm::fuzz::share_top() + "/share");
  if (!pfs) abort();
  std::shared_ptr<fsv::FileSystem> fs = *pfs;
  if (opts & 1) fs = std::make_shared<fsv::ReadOnlyFs>(fs);
  fsv::FuseServer server(fs);

  static const size_t kRooms[] = {1 << 17, 4096, 16, 100, 8, 0, 200, 1 << 20};
  const size_t room = kRooms[(opts >> 2) & 7];
  const size_t chunk = (opts >> 5) * 3;  // 0 = one buffer

  if (!(opts & 2)) {
    fuse_in_header h{};
    fuse_init_in in{};
    h.len = sizeof(h) + sizeof(in);
    h.opcode = FUSE_INIT;
    in.major = 7;
    in.minor = 31;
    in.flags = 0xffffffff;
    std::vector<uint8_t> msg(h.len), out(4096);
    std::memcpy(msg.data(), &h, sizeof(h));
    std::memcpy(msg.data() + sizeof(h), &in, sizeof(in));
    iovec iv{msg.data(), msg.size()}, ov{out.data(), out.size()};
    runvm::vmm::virtio::ChainReader r({&iv, 1});
    runvm::vmm::virtio::ChainWriter w({&ov, 1});
    server.handle(r, w);
  }

  size_t pos = 1;
  while (pos + 2 <= size) {
    size_t len = data[pos] | (static_cast<size_t>(data[pos + 1]) << 8);
    pos += 2;
    len = std::min(len, size - pos);
    std::vector<uint8_t> msg(data + pos, data + pos + len);
    pos += len;
    clamp_fallocate(msg);
    // One reply buffer for all messages: fresh megabytes per message would
    // make page faults the bottleneck.
    static std::vector<uint8_t> out(1 << 20);
    auto iv = scatter(msg.data(), msg.size(), chunk);
    auto ov = scatter(out.data(), room, chunk);
    runvm::vmm::virtio::ChainReader r(iv);
    runvm::vmm::virtio::ChainWriter w(ov);
    size_t n = server.handle(r, w);
    if (n > room) abort();
    if (n >= sizeof(fuse_out_header)) {
      fuse_out_header h;
      std::memcpy(&h, out.data(), sizeof(h));
      if (h.len != n || h.error > 0 || h.error <= -4096) abort();
    }
  }
  fs->destroy();
  if (!runvm::fuzz::outside_untouched()) {
    std::fprintf(stderr, "fuse_fuzzer: the directory outside the share changed\n");
    abort();
  }
  return 0;
}
