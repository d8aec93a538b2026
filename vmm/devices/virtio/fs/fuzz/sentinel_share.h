// The share the virtio-fs fuzzers serve, beside a sentinel directory that must
// never change: a change there is an escape from the share.
//   TOP/share/            made afresh for every input (make_share_tree)
//   TOP/outside/secret    made once (make_share_top), checked (outside_untouched)
#pragma once

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

namespace runvm::fuzz {

inline std::string& share_top() {
  static std::string top;
  return top;
}

// Once per process (LLVMFuzzerInitialize); removed at exit. On tmpfs when there
// is one: fsync is free there and file churn is cheap.
inline void make_share_top(const std::string& prefix) {
  namespace stdfs = std::filesystem;
  std::string base = ::access("/dev/shm", W_OK) == 0 ? "/dev/shm" : stdfs::temp_directory_path();
  std::string tmpl = base + "/" + prefix + "-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) abort();
  share_top() = tmpl;
  std::atexit([] {
    std::error_code ec;
    std::filesystem::remove_all(share_top(), ec);
  });
  ::mkdir((tmpl + "/outside").c_str(), 0755);
  std::ofstream(tmpl + "/outside/secret", std::ios::binary) << "secret";
}

// A small share with one of each kind of object, and links that lead out of it.
inline void make_share_tree() {
  const std::string s = share_top() + "/share";
  std::error_code ec;
  std::filesystem::remove_all(s, ec);
  ::mkdir(s.c_str(), 0755);
  ::mkdir((s + "/dir").c_str(), 0755);
  std::ofstream(s + "/file", std::ios::binary) << "0123456789abcdef";
  std::ofstream(s + "/dir/inner", std::ios::binary) << "inner";
  (void)::symlink("/etc/passwd", (s + "/abs").c_str());
  (void)::symlink("../outside/secret", (s + "/rel").c_str());
  (void)::symlink("../outside", (s + "/dir/up").c_str());
  (void)::mkfifo((s + "/fifo").c_str(), 0644);
}

inline bool outside_untouched() {
  const std::string o = share_top() + "/outside";
  size_t n = 0;
  for (const auto& e : std::filesystem::directory_iterator(o)) {
    (void)e;
    ++n;
  }
  std::ifstream f(o + "/secret", std::ios::binary);
  return n == 1 && std::string(std::istreambuf_iterator<char>(f), {}) == "secret";
}

}  // namespace runvm::fuzz
