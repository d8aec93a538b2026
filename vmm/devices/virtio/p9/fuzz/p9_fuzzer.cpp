// libFuzzer target for the 9P2000.L decoder, over a PassthroughFs (or a
// read-only one) on a fresh temporary share per input.
//
// Input: byte 0 selects options (read-only share, skip Tversion+Tattach,
// reply room, scatter size); then messages as [le16 length][bytes], fed in
// order to one server. After each input the directory next to the share must
// be exactly as it was.
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

#include "vmm/devices/virtio/fs/passthrough_fs.h"
#include "vmm/devices/virtio/fs/read_only_fs.h"
#include "vmm/devices/virtio/p9/p9_server.h"

namespace {

namespace fsv = runvm::vmm::virtio::fs;
namespace stdfs = std::filesystem;

std::string g_top;

void write_file(const std::string& p, const std::string& data) {
  std::ofstream(p, std::ios::binary) << data;
}

std::string read_file(const std::string& p) {
  std::ifstream f(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

void make_tree() {
  std::error_code ec;
  stdfs::remove_all(g_top + "/share", ec);
  ::mkdir((g_top + "/share").c_str(), 0755);
  ::mkdir((g_top + "/share/dir").c_str(), 0755);
  write_file(g_top + "/share/file", "0123456789abcdef");
  write_file(g_top + "/share/dir/inner", "inner");
  (void)::symlink("/etc/passwd", (g_top + "/share/abs").c_str());
  (void)::symlink("../outside", (g_top + "/share/dir/up").c_str());
  (void)::mkfifo((g_top + "/share/fifo").c_str(), 0644);
}

void check_outside_untouched() {
  size_t n = 0;
  for (const auto& e : stdfs::directory_iterator(g_top + "/outside")) {
    (void)e;
    ++n;
  }
  if (n != 1 || read_file(g_top + "/outside/secret") != "secret") {
    std::fprintf(stderr, "p9_fuzzer: the directory outside the share changed\n");
    abort();
  }
}

std::vector<iovec> scatter(uint8_t* p, size_t n, size_t chunk) {
  std::vector<iovec> v;
  size_t off = 0;
  if (chunk > 0) {
    for (; off < n && off < 512; off += chunk) v.push_back({p + off, std::min(chunk, n - off)});
  }
  if (off < n) v.push_back({p + off, n - off});
  return v;
}

size_t send(runvm::vmm::virtio::p9::P9Server& s, std::vector<uint8_t> msg, uint8_t* out,
            size_t room, size_t chunk) {
  auto iv = scatter(msg.data(), msg.size(), chunk);
  auto ov = scatter(out, room, chunk);
  runvm::vmm::virtio::ChainReader r(iv);
  runvm::vmm::virtio::ChainWriter w(ov);
  return s.handle(r, w);
}

void cleanup() {
  std::error_code ec;
  if (!g_top.empty()) stdfs::remove_all(g_top, ec);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  std::string base = ::access("/dev/shm", W_OK) == 0 ? "/dev/shm" : stdfs::temp_directory_path();
  std::string tmpl = base + "/p9-fuzz-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) abort();
  g_top = tmpl;
  std::atexit(cleanup);
  ::mkdir((g_top + "/outside").c_str(), 0755);
  write_file(g_top + "/outside/secret", "secret");
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t opts = data[0];
  make_tree();
  auto pfs = fsv::PassthroughFs::create(g_top + "/share");
  if (!pfs) abort();
  std::shared_ptr<fsv::FileSystem> fs = *pfs;
  if (opts & 1) fs = std::make_shared<fsv::ReadOnlyFs>(fs);
  static std::vector<uint8_t> out(1 << 20);
  {
    runvm::vmm::virtio::p9::P9Server server(fs);
    static const size_t kRooms[] = {1 << 17, 4096, 16, 100, 8, 0, 200, 1 << 20};
    const size_t room = kRooms[(opts >> 2) & 7];
    const size_t chunk = (opts >> 5) * 3;

    if (!(opts & 2)) {
      // Tversion msize=65536 "9P2000.L"; Tattach fid=0 afid=NOFID uname="" aname="" n_uname=0.
      std::vector<uint8_t> v = {21, 0, 0,   0,   100, 0xff, 0xff, 0,   0,   1,  0,
                                8,  0, '9', 'P', '2', '0',  '0',  '0', '.', 'L'};
      send(server, v, out.data(), 4096, 0);
      std::vector<uint8_t> a = {23,   0,    0,    0, 104, 1, 0, 0, 0, 0, 0, 0xff,
                                0xff, 0xff, 0xff, 0, 0,   0, 0, 0, 0, 0, 0};
      send(server, a, out.data(), 4096, 0);
    }
    size_t pos = 1;
    while (pos + 2 <= size) {
      size_t len = data[pos] | (static_cast<size_t>(data[pos + 1]) << 8);
      pos += 2;
      len = std::min(len, size - pos);
      std::vector<uint8_t> msg(data + pos, data + pos + len);
      pos += len;
      size_t n = send(server, std::move(msg), out.data(), room, chunk);
      if (n > room) abort();
      if (n >= 7) {
        uint32_t sz;
        std::memcpy(&sz, out.data(), 4);
        if (sz != n) abort();
      }
    }
  }  // the server clunks every fid here
  if ((*pfs)->inode_count() != 1 || (*pfs)->handle_count() != 0) {
    std::fprintf(stderr, "p9_fuzzer: fids leaked inodes or handles\n");
    abort();
  }
  check_outside_untouched();
  return 0;
}
