// libFuzzer target: the virtio-fs device with its multi-threaded request
// workers, as a guest driver drives it (workers_harness.h: what is posted and
// checked). Served as runvm serves a container's rootfs: cache=always with
// writeback; the driver's first request is FUSE_INIT on the request queue.
#include <linux/fuse.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <utility>
#include <vector>

#define FUZZ_TARGET "fs_workers_fuzzer"
#include "base/proc_self.h"
#include "vmm/devices/virtio/fs/fuzz/workers_harness.h"
#include "vmm/devices/virtio/fs/passthrough_fs.h"
#include "vmm/devices/virtio/fs/virtio_fs.h"

namespace {

using namespace runvm::vmm::virtio;

struct FuseWorkers {
  static constexpr int kQueues = 2;  // hiprio, request
  static constexpr uint16_t kQueueSize = fs::VirtioFs::kQueueSize;

  static std::shared_ptr<VirtioDevice> make() {
    fs::PassthroughOptions po;
    po.content = fs::ShareContent::ContainerRoot;
    po.timeout_ns = fs::CachePolicy{fs::CacheMode::Always, true}.timeout_ns();
    po.writeback = true;
    auto pfs = fs::PassthroughFs::create(runvm::fuzz::share_top() + "/share", po);
    if (!pfs) return nullptr;
    fs::FuseServerOptions so;
    so.cache = {fs::CacheMode::Always, true};
    auto dev = fs::VirtioFs::create("fz", *pfs, 3, so);
    return dev ? *dev : nullptr;
  }

  static std::vector<uint8_t> request(uint32_t opcode, const void* body, size_t n) {
    fuse_in_header h{};
    h.len = static_cast<uint32_t>(sizeof h + n);
    h.opcode = opcode;
    h.unique = 1;
    std::vector<uint8_t> m(sizeof h + n);
    std::memcpy(m.data(), &h, sizeof h);
    if (n) std::memcpy(m.data() + sizeof h, body, n);
    return m;
  }

  static std::pair<std::vector<uint8_t>, uint8_t> first() {
    fuse_init_in init{};
    init.major = FUSE_KERNEL_VERSION;
    init.minor = FUSE_KERNEL_MINOR_VERSION;
    init.max_readahead = 1 << 16;
    return {request(FUSE_INIT, &init, sizeof init), 1};
  }

  // A fuzzed FALLOCATE or WRITE stays within the first MiB of a file.
  static void clamp(std::vector<uint8_t>& msg) {
    fuse_in_header h;
    if (msg.size() < sizeof h) return;
    std::memcpy(&h, msg.data(), sizeof h);
    if (h.opcode == FUSE_FALLOCATE && msg.size() >= sizeof h + sizeof(fuse_fallocate_in)) {
      fuse_fallocate_in in;
      std::memcpy(&in, msg.data() + sizeof h, sizeof in);
      in.offset &= 0xfffff;
      in.length &= 0xfffff;
      std::memcpy(msg.data() + sizeof h, &in, sizeof in);
    }
    if (h.opcode == FUSE_WRITE && msg.size() >= sizeof h + sizeof(fuse_write_in)) {
      fuse_write_in in;
      std::memcpy(&in, msg.data() + sizeof h, sizeof in);
      in.offset &= 0xfffff;
      std::memcpy(msg.data() + sizeof h, &in, sizeof in);
    }
  }
};

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  runvm::fuzz::make_share_top("fsworkers-fuzz");
  // Opened once per process and kept (base/proc_self.h): not a per-device fd.
  (void)runvm::proc_self_dir();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return runvm::fuzz::run_workers_input<FuseWorkers>(data, size);
}
