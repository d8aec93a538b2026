#include "vmm/main/flags.h"

#include <sys/stat.h>

#include <CLI/CLI.hpp>
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

// TAG=DIR[:ro] as given to --fs / --9p.
bool parse_shared_dir(const std::string& spec, SharedDir::Kind kind, SharedDir* out) {
  auto eq = spec.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == spec.size()) return false;
  out->kind = kind;
  out->tag = spec.substr(0, eq);
  out->dir = spec.substr(eq + 1);
  if (out->dir.size() > 3 && out->dir.compare(out->dir.size() - 3, 3, ":ro") == 0) {
    out->read_only = true;
    out->dir.resize(out->dir.size() - 3);
  }
  return true;
}

}  // namespace

ParsedFlags parse_flags(int argc, const char* const* argv) {
  CLI::App app{"runvm-vmm: boots a Linux guest in a KVM microVM"};
  VmConfig cfg;
  std::string console = "stdio";
  uint32_t cid = 0;
  app.add_option("--kernel", cfg.kernel, "guest kernel (bzImage or ELF vmlinux)")->required();
  app.add_option("--initrd", cfg.initrd, "initramfs");
  app.add_option("--cmdline", cfg.cmdline, "kernel command line");
  app.add_option("--memory", cfg.memory_mib, "guest memory in MiB")->capture_default_str();
  app.add_option("--cpus", cfg.cpus, "number of vCPUs")->capture_default_str();
  auto* cid_opt = app.add_option("--vsock-cid", cid, "guest vsock CID (>= 3)");
  auto* uds_opt = app.add_option("--vsock-uds", cfg.vsock_uds, "host unix socket for vsock");
  app.add_option("--console", console, "stdio | file:PATH | none")->capture_default_str();
  std::vector<std::string> fs_specs, p9_specs;
  app.add_option("--fs", fs_specs, "share DIR as virtio-fs TAG: TAG=DIR[:ro] (repeatable)");
  app.add_option("--9p", p9_specs, "share DIR as virtio-9p TAG: TAG=DIR[:ro] (repeatable)");

  ParsedFlags out;
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    out.exit_code = app.exit(e);
    if (out.exit_code != 0) out.exit_code = 1;
    return out;
  }
  if (!is_readable_file(cfg.kernel)) {
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
      if (!parse_shared_dir(spec, kind, &sd)) {
        out.exit_code = fail(std::string(flag) + " " + spec, "expected TAG=DIR[:ro]");
        return out;
      }
      if (::stat(sd.dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
        out.exit_code = fail(std::string(flag) + " " + spec, "no such directory " + sd.dir);
        return out;
      }
      cfg.shared_dirs.push_back(std::move(sd));
    }
  }
  out.config = std::move(cfg);
  return out;
}

}  // namespace runvm::vmm
