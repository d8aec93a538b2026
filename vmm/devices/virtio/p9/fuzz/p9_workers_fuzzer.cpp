// libFuzzer target: the virtio-9p device with its multi-threaded request
// workers, as a guest driver drives it (../../fs/fuzz/workers_harness.h: what
// is posted and checked, shared with fs_workers_fuzzer). A volume share (the
// strict policy); the driver's first request is Tversion.
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#define FUZZ_TARGET "p9_workers_fuzzer"
#include "base/proc_self.h"
#include "vmm/devices/virtio/fs/fuzz/workers_harness.h"
#include "vmm/devices/virtio/fs/passthrough_fs.h"
#include "vmm/devices/virtio/p9/p9_wire.h"
#include "vmm/devices/virtio/p9/virtio_9p.h"

namespace {

using namespace runvm::vmm::virtio;

struct P9Workers {
  static constexpr int kQueues = 1;
  static constexpr uint16_t kQueueSize = p9::Virtio9p::kQueueSize;

  static std::shared_ptr<VirtioDevice> make() {
    auto pfs = fs::PassthroughFs::create(runvm::fuzz::share_top() + "/share");
    if (!pfs) return nullptr;
    auto dev = p9::Virtio9p::create("fz", *pfs, 3);
    return dev ? *dev : nullptr;
  }

  // Tversion: size[4] type[1] tag[2] msize[4] version[s].
  static std::pair<std::vector<uint8_t>, uint8_t> first() {
    const std::string version = "9P2000.L";
    std::vector<uint8_t> m(4 + 1 + 2 + 4 + 2 + version.size());
    const uint32_t size = static_cast<uint32_t>(m.size()), msize = 8192;
    const uint16_t notag = 0xffff, vlen = static_cast<uint16_t>(version.size());
    std::memcpy(&m[0], &size, 4);  // little-endian host (x86-64), as 9P
    m[4] = p9::wire::kTversion;
    std::memcpy(&m[5], &notag, 2);
    std::memcpy(&m[7], &msize, 4);
    std::memcpy(&m[11], &vlen, 2);
    std::memcpy(&m[13], version.data(), version.size());
    return {m, 0};
  }

  // A fuzzed Twrite (size[4] type[1] tag[2] fid[4] offset[8] ...) stays within the
  // first MiB of a file.
  static void clamp(std::vector<uint8_t>& msg) {
    if (msg.size() < 19 || msg[4] != p9::wire::kTwrite) return;
    uint64_t offset;
    std::memcpy(&offset, &msg[11], 8);
    offset &= 0xfffff;
    std::memcpy(&msg[11], &offset, 8);
  }
};

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  runvm::fuzz::make_share_top("p9workers-fuzz");
  // Opened once per process and kept (base/proc_self.h): not a per-device fd.
  (void)runvm::proc_self_dir();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return runvm::fuzz::run_workers_input<P9Workers>(data, size);
}
