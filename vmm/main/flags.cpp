#include "vmm/main/flags.h"
#include "base/uid_gid.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <CLI/CLI.hpp>
#include <climits>
#include <cstdio>
#include <string>
#include <tuple>
#include <vector>

namespace runvm::vmm {

namespace {

bool is_readable_file(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

int fail(const std::string& what, const std::string& why) {
  std::fprintf(stderr, "runvm-vmm: %s: %s\n", what.c_str(), why.c_str());
  return 1;
}

// Strips `suffix` from the end of *dir (leaving a non-empty directory).
bool take_suffix(std::string* dir, std::string_view suffix) {
  if (dir->size() <= suffix.size() || !std::string_view(*dir).ends_with(suffix)) return false;
  dir->resize(dir->size() - suffix.size());
  return true;
}

constexpr const char* kShareSyntax = "TAG=DIR[:ro][:rootfs][:cache=none|auto|always][:writeback]";

// TAG=DIR plus kShareSyntax's options in any order, as given to --fs / --9p; an empty
// string or what is wrong.
std::string parse_shared_dir(const std::string& spec, SharedDir::Kind kind, SharedDir* out) {
  auto eq = spec.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == spec.size())
    return std::string("expected ") + kShareSyntax;
  out->kind = kind;
  out->tag = spec.substr(0, eq);
  out->dir = spec.substr(eq + 1);
  bool cache_given = false;
  for (bool more = true; more;) {
    more = false;
    if (!out->read_only && take_suffix(&out->dir, ":ro")) more = out->read_only = true;
    if (out->content != virtio::fs::ShareContent::ContainerRoot &&
        take_suffix(&out->dir, ":rootfs")) {
      out->content = virtio::fs::ShareContent::ContainerRoot;
      more = true;
    }
    if (!out->cache.writeback && take_suffix(&out->dir, ":writeback"))
      more = out->cache.writeback = true;
    for (auto mode : {virtio::fs::CacheMode::None, virtio::fs::CacheMode::Auto,
                      virtio::fs::CacheMode::Always}) {
      if (!cache_given &&
          take_suffix(&out->dir, std::string(":cache=") + virtio::fs::cache_mode_name(mode))) {
        out->cache.mode = mode;
        more = cache_given = true;
      }
    }
  }
  auto colon = out->dir.rfind(':');
  if (colon != std::string::npos && out->dir.compare(colon, 7, ":cache=") == 0)
    return "unknown cache mode \"" + out->dir.substr(colon + 7) + "\" (none, auto or always)";
  if (kind == SharedDir::Kind::P9 && (cache_given || out->cache.writeback))
    return ":cache= and :writeback apply to --fs only (a 9p guest picks its cache at mount)";
  if (out->read_only && out->cache.writeback) return ":writeback needs a writable share, not :ro";
  return {};
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Exactly six two-digit hex octets separated by ':'.
bool parse_mac(const std::string& s, std::array<uint8_t, 6>* out) {
  if (s.size() != 17) return false;
  for (size_t i = 0; i < 6; ++i) {
    if (i > 0 && s[3 * i - 1] != ':') return false;
    int hi = hex_digit(s[3 * i]), lo = hex_digit(s[3 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    (*out)[i] = static_cast<uint8_t>(hi * 16 + lo);
  }
  return true;
}

// Plain decimal digits (no sign, no spaces) up to `max`.
bool parse_decimal(const std::string& s, uint64_t max, uint64_t* out) {
  if (s.empty() || s.size() > 10) return false;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  if (v > max) return false;
  *out = v;
  return true;
}

// tap-fd=N,mac=XX:XX:XX:XX:XX:XX[,mtu=M] as given to --net. Returns why the
// spec is wrong, or "" when *out is filled.
std::string parse_net(const std::string& spec, NetConfig* out) {
  bool have_fd = false, have_mac = false, have_mtu = false;
  size_t pos = 0;
  while (pos <= spec.size()) {
    size_t end = spec.find(',', pos);
    if (end == std::string::npos) end = spec.size();
    std::string item = spec.substr(pos, end - pos);
    pos = end + 1;
    size_t eq = item.find('=');
    if (eq == std::string::npos) return "expected KEY=VALUE, got \"" + item + "\"";
    std::string key = item.substr(0, eq), value = item.substr(eq + 1);
    uint64_t v = 0;
    if (key == "tap-fd") {
      if (have_fd) return "tap-fd given twice";
      have_fd = true;
      if (!parse_decimal(value, INT_MAX, &v)) return "tap-fd \"" + value + "\" is not a number";
      out->tap_fd = static_cast<int>(v);
    } else if (key == "mac") {
      if (have_mac) return "mac given twice";
      have_mac = true;
      if (!parse_mac(value, &out->mac))
        return "mac \"" + value + "\" is not six hex octets XX:XX:XX:XX:XX:XX";
    } else if (key == "mtu") {
      if (have_mtu) return "mtu given twice";
      have_mtu = true;
      if (!parse_decimal(value, 65535, &v) || v < 68)
        return "mtu \"" + value + "\" is not between 68 and 65535";
      out->mtu = static_cast<uint16_t>(v);
    } else {
      return "unknown key \"" + key + "\" (expected tap-fd, mac, mtu)";
    }
  }
  if (!have_fd) return "tap-fd=N is required";
  if (!have_mac) return "mac=XX:XX:XX:XX:XX:XX is required";
  if (out->mac[0] & 1) return "mac is a multicast address (low bit of the first octet set)";
  if (out->mac == std::array<uint8_t, 6>{}) return "mac 00:00:00:00:00:00 is not an address";
  // The guest console and the container's stdio live on 0-2.
  if (out->tap_fd <= 2)
    return "tap-fd " + std::to_string(out->tap_fd) + " is a standard stream, not a tap";
  int fdflags = fcntl(out->tap_fd, F_GETFD);
  if (fdflags < 0) return "tap-fd " + std::to_string(out->tap_fd) + " is not open";
  // Ours from now on: no child of the VMM inherits the tap.
  if (fcntl(out->tap_fd, F_SETFD, fdflags | FD_CLOEXEC) != 0)
    return "tap-fd " + std::to_string(out->tap_fd) + ": cannot set FD_CLOEXEC";
  return "";
}

}  // namespace

ParsedFlags parse_flags(int argc, const char* const* argv) {
  CLI::App app{"runvm-vmm: boots a Linux guest in a KVM microVM"};
  VmConfig cfg;
  std::string console = "stdio";
  uint32_t cid = 0;
  auto* kernel_opt =
      app.add_option("--kernel", cfg.kernel, "guest kernel (bzImage or ELF vmlinux)");
  app.add_option("--initrd", cfg.initrd, "initramfs");
  app.add_option("--cmdline", cfg.cmdline, "kernel command line");
  app.add_option("--memory", cfg.memory_mib, "guest memory in MiB")->capture_default_str();
  app.add_option("--cpus", cfg.cpus, "number of vCPUs")->capture_default_str();
  auto* cid_opt = app.add_option("--vsock-cid", cid, "guest vsock CID (>= 3)");
  auto* uds_opt = app.add_option("--vsock-uds", cfg.vsock_uds, "host unix socket for vsock");
  app.add_option("--console", console, "stdio | file:PATH | none")->capture_default_str();
  std::vector<std::string> fs_specs, p9_specs;
  app.add_option("--fs", fs_specs,
                 "share DIR as virtio-fs TAG: TAG=DIR[:ro][:rootfs][:cache=none|auto|always]"
                 "[:writeback] (repeatable; :rootfs keeps set-uid bits and file capabilities the "
                 "guest sets; cache=auto by default; vmm/devices/virtio/fs/README.md)");
  app.add_option("--9p", p9_specs,
                 "share DIR as virtio-9p TAG: TAG=DIR[:ro][:rootfs] (repeatable)");
  std::vector<std::string> net_specs;
  app.add_option("--net", net_specs,
                 "virtio-net NIC on an inherited tap fd: tap-fd=N,mac=XX:XX:XX:XX:XX:XX[,mtu=M] "
                 "(without mtu the guest picks its own)");

  app.add_option("--snapshot-save", cfg.snapshot.save_dir,
                 "save the VM into DIR when the guest reaches the snapshot point, then exit "
                 "(a template VM: vmm/snapshot/README.md)");
  app.add_option("--restore", cfg.snapshot.restore_dir,
                 "start from the VM saved in DIR instead of booting --kernel; devices, "
                 "--memory and --cpus must be as when it was saved");
  bool no_seccomp = false;
  app.add_flag("--no-seccomp", no_seccomp,
               "do not install the seccomp allow-list (debugging only: vmm/jail/README.md)");
  // The filter was opt-in until 2026-12-05; the old flag is still accepted.
  bool seccomp_compat = false;
  app.add_flag("--seccomp", seccomp_compat)->group("");
  bool no_mount_jail = false;
  app.add_flag("--no-mount-jail", no_mount_jail,
               "keep the host's mount namespace and root (debugging only: vmm/jail/README.md)");
  std::string user;
  app.add_option("--user", user,
                 "UID[:GID]: switch to these ids once set up, keeping only the filesystem "
                 "capabilities (vmm/jail/README.md)");
  // Hidden (no group): e2e tests of the jail.
  app.add_flag("--test-forbidden-syscall", cfg.jail.test_forbidden_syscall)->group("");
  app.add_flag("--test-vcpu-forbidden-syscall", cfg.jail.test_vcpu_forbidden_syscall)->group("");

  ParsedFlags out;
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    out.exit_code = app.exit(e);
    if (out.exit_code != 0) out.exit_code = 1;
    return out;
  }
  if (!user.empty()) {
    auto ids = parse_uid_gid(user);
    if (!ids) {
      out.exit_code = fail("--user " + user, "must be UID or UID:GID (numbers)");
      return out;
    }
    cfg.jail.uid = ids->uid;
    cfg.jail.gid = ids->gid;
  }
  if (!cfg.snapshot.restore_dir.empty() && !cfg.snapshot.save_dir.empty()) {
    out.exit_code = fail("--restore/--snapshot-save", "give one or the other");
    return out;
  }
  if (cfg.snapshot.restore_dir.empty() && kernel_opt->count() == 0) {
    out.exit_code = fail("--kernel", "is required (unless --restore)");
    return out;
  }
  if (cfg.snapshot.restore_dir.empty() && !is_readable_file(cfg.kernel)) {
    out.exit_code = fail("--kernel " + cfg.kernel, "no such regular file");
    return out;
  }
  if (!cfg.initrd.empty() && !is_readable_file(cfg.initrd)) {
    out.exit_code = fail("--initrd " + cfg.initrd, "no such regular file");
    return out;
  }
  // At least room for the kernel to decompress; at most what a 64-bit host can map.
  if (cfg.memory_mib < 32 || cfg.memory_mib > (1u << 20)) {
    out.exit_code =
        fail("--memory " + std::to_string(cfg.memory_mib), "must be between 32 and 1048576 MiB");
    return out;
  }
  if (cfg.cpus == 0 || cfg.cpus > VmConfig::kMaxCpus) {
    out.exit_code = fail("--cpus " + std::to_string(cfg.cpus),
                         "must be between 1 and " + std::to_string(VmConfig::kMaxCpus));
    return out;
  }
  if (cid_opt->count() != uds_opt->count()) {
    out.exit_code = fail("--vsock-cid/--vsock-uds", "give both or neither");
    return out;
  }
  if (cid_opt->count()) {
    if (cid < 3) {
      out.exit_code = fail("--vsock-cid " + std::to_string(cid), "must be >= 3");
      return out;
    }
    cfg.vsock_cid = cid;
  }
  if (console == "stdio") {
    cfg.console.kind = ConsoleConfig::Kind::Stdio;
  } else if (console == "none") {
    cfg.console.kind = ConsoleConfig::Kind::None;
  } else if (console.rfind("file:", 0) == 0 && console.size() > 5) {
    cfg.console.kind = ConsoleConfig::Kind::File;
    cfg.console.path = console.substr(5);
  } else {
    out.exit_code = fail("--console " + console, "expected stdio, file:PATH or none");
    return out;
  }
  for (auto [specs, kind, flag] : {std::tuple{&fs_specs, SharedDir::Kind::VirtioFs, "--fs"},
                                   std::tuple{&p9_specs, SharedDir::Kind::P9, "--9p"}}) {
    for (const auto& spec : *specs) {
      SharedDir sd;
      struct stat st;
      if (std::string err = parse_shared_dir(spec, kind, &sd); !err.empty()) {
        out.exit_code = fail(std::string(flag) + " " + spec, err);
        return out;
      }
      if (::stat(sd.dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
        out.exit_code = fail(std::string(flag) + " " + spec, "no such directory " + sd.dir);
        return out;
      }
      cfg.shared_dirs.push_back(std::move(sd));
    }
  }
  if (net_specs.size() > 1) {
    out.exit_code =
        fail("--net", "given " + std::to_string(net_specs.size()) + " times; one NIC is supported");
    return out;
  }
  if (!net_specs.empty()) {
    NetConfig net;
    if (std::string why = parse_net(net_specs[0], &net); !why.empty()) {
      out.exit_code = fail("--net " + net_specs[0], why);
      return out;
    }
    cfg.net = net;
  }
  cfg.jail.enabled = true;
  cfg.jail.seccomp = !no_seccomp;
  cfg.jail.mount_namespace = !no_mount_jail;
  out.config = std::move(cfg);
  return out;
}

}  // namespace runvm::vmm
