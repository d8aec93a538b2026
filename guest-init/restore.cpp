#include "guest-init/restore.h"

#include <fcntl.h>
#include <linux/random.h>
#include <sys/io.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "base/snapshot_point.h"
#include "base/unique_fd.h"

namespace runvm::guest {

Status reach_snapshot_point() {
  if (::ioperm(kSnapshotPointPort, 1, 1) != 0)
    return Error::from_errno("ioperm for the snapshot point port");
  outb(kSnapshotPointValue, kSnapshotPointPort);
  (void)::ioperm(kSnapshotPointPort, 1, 0);
  return {};
}

Status reseed_and_set_clock(const agent::RestoredReq& r) {
  UniqueFd fd(::open("/dev/urandom", O_RDWR | O_CLOEXEC));
  if (!fd.valid()) return Error::from_errno("open /dev/urandom");
  // struct rand_pool_info: entropy_count (bits credited), buf_size, then the bytes.
  std::vector<int> info(2 + (r.seed.size() + sizeof(int) - 1) / sizeof(int), 0);
  info[0] = static_cast<int>(r.seed.size() * 8);
  info[1] = static_cast<int>(r.seed.size());
  std::memcpy(&info[2], r.seed.data(), r.seed.size());
  if (::ioctl(fd.get(), RNDADDENTROPY, info.data()) != 0) return Error::from_errno("RNDADDENTROPY");
  if (::ioctl(fd.get(), RNDRESEEDCRNG) != 0) return Error::from_errno("RNDRESEEDCRNG");
  timespec ts{};
  ts.tv_sec = static_cast<time_t>(r.realtime_ns / 1000000000ull);
  ts.tv_nsec = static_cast<long>(r.realtime_ns % 1000000000ull);
  if (::clock_settime(CLOCK_REALTIME, &ts) != 0) return Error::from_errno("clock_settime");
  return {};
}

}  // namespace runvm::guest
