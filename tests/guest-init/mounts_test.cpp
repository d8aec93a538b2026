// The container filesystem: option parsing, symlink-safe resolution, and a
// whole setup_rootfs + enter_rootfs in a forked child's own mount namespace.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "guest-init/mounts.h"
#include "tests/guest-init/child.h"
#include "tests/support/temp_dir.h"

namespace runvm::guest {
namespace {

namespace fs = std::filesystem;
using runvm::testing::TempDir;
using testing::exited_ok;
using testing::run_in_child;

void write(const std::string& p, const std::string& s) {
  std::ofstream(p) << s;
}

oci::Mount mount_of(std::string dst, std::string type, std::string src, oci::StringList opts = {}) {
  oci::Mount x;
  x.destination = std::move(dst);
  x.type = std::move(type);
  x.source = std::move(src);
  x.options = std::move(opts);
  return x;
}

TEST(MountOptions, SplitsFlagsPropagationAndData) {
  auto o = parse_mount_options(
      {"nosuid", "noexec", "mode=755", "ro", "size=1m", "rbind", "rprivate", "rw", "ro"});
  EXPECT_EQ(o.flags, static_cast<unsigned long>(MS_NOSUID | MS_NOEXEC | MS_RDONLY));
  EXPECT_TRUE(o.bind);
  EXPECT_TRUE(o.recursive);
  EXPECT_EQ(o.propagation, static_cast<unsigned long>(MS_PRIVATE | MS_REC));
  EXPECT_EQ(o.data, "mode=755,size=1m");
  auto rw = parse_mount_options({"ro", "rw", "bind"});
  EXPECT_EQ(rw.flags, 0ul);
  EXPECT_TRUE(rw.bind);
  EXPECT_FALSE(rw.recursive);
}

TEST(ResolveInRootfs, SymlinksCannotLeaveTheRoot) {
  TempDir t;
  fs::create_directories(t.path() + "/etc");
  fs::create_directories(t.path() + "/a/b");
  fs::create_symlink("/etc", t.path() + "/abs");
  fs::create_symlink("../../../../etc", t.path() + "/a/b/rel");
  fs::create_symlink("loop2", t.path() + "/loop1");
  fs::create_symlink("loop1", t.path() + "/loop2");
  auto r = resolve_in_rootfs(t.path(), "/abs/passwd");
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, t.path() + "/etc/passwd");
  r = resolve_in_rootfs(t.path(), "/a/b/rel/x");
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, t.path() + "/etc/x");
  r = resolve_in_rootfs(t.path(), "/../../x/./y");
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, t.path() + "/x/y");
  r = resolve_in_rootfs(t.path(), "/loop1/z");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().err, ELOOP);
}

TEST(SetupRootfs, BuildsMountsDevicesMasksAndReadonlyRoot) {
  SKIP_UNLESS_ROOT();
  TempDir root, vol;
  write(root.path() + "/marker", "m");
  write(root.path() + "/secret", "top secret");
  fs::create_directories(root.path() + "/secretdir");
  write(root.path() + "/secretdir/f", "x");
  fs::create_directories(root.path() + "/ro");
  write(vol.path() + "/file", "volume");

  oci::Spec spec;
  spec.root = oci::Root{"rootfs", true};
  const auto m = mount_of;
  spec.mounts = std::vector<oci::Mount>{
      m("/proc", "proc", "proc", {"nosuid", "noexec", "nodev"}),
      m("/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"}),
      m("/dev/pts", "devpts", "devpts", {"nosuid", "noexec", "newinstance", "ptmxmode=0666"}),
      m("/tmp", "tmpfs", "tmpfs", {"nosuid", "size=1m"}),
      m("/data", "bind", vol.path(), {"rbind", "ro"}),
  };
  spec.linux = oci::Linux{};
  oci::Device d;
  d.type = "c";
  d.path = "/dev/mynull";
  d.major = 1;
  d.minor = 3;
  d.fileMode = 0600;
  spec.linux->devices = std::vector<oci::Device>{d};
  spec.linux->maskedPaths = oci::StringList{"/secret", "/secretdir", "/does-not-exist"};
  spec.linux->readonlyPaths = oci::StringList{"/ro", "/also-missing"};

  std::string r = root.path();
  int ws = run_in_child([&] {
    if (unshare(CLONE_NEWNS) < 0) return 1;
    if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) < 0) return 2;
    auto s = setup_rootfs(spec, r);
    if (!s) {
      fprintf(stderr, "setup_rootfs: %s\n", s.error().message.c_str());
      return 3;
    }
    struct stat st;
    if (stat((r + "/proc/self/status").c_str(), &st) < 0) return 4;
    if (stat((r + "/dev/null").c_str(), &st) < 0 || !S_ISCHR(st.st_mode) ||
        st.st_rdev != makedev(1, 3))
      return 5;
    if (stat((r + "/dev/mynull").c_str(), &st) < 0 || (st.st_mode & 0777) != 0600) return 6;
    if (lstat((r + "/dev/ptmx").c_str(), &st) < 0 || !S_ISLNK(st.st_mode)) return 7;
    if (stat((r + "/dev/pts/ptmx").c_str(), &st) < 0) return 8;
    std::string secret;
    std::ifstream(r + "/secret") >> secret;
    if (!secret.empty()) return 9;
    if (stat((r + "/secretdir/f").c_str(), &st) == 0) return 10;
    if (open((r + "/ro/new").c_str(), O_CREAT | O_WRONLY, 0644) >= 0 || errno != EROFS) return 11;
    if (open((r + "/new").c_str(), O_CREAT | O_WRONLY, 0644) >= 0 || errno != EROFS) return 12;
    int tf = open((r + "/tmp/ok").c_str(), O_CREAT | O_WRONLY, 0644);
    if (tf < 0) return 13;
    close(tf);
    std::string vol_content;
    std::ifstream(r + "/data/file") >> vol_content;
    if (vol_content != "volume") return 14;
    if (open((r + "/data/new").c_str(), O_CREAT | O_WRONLY, 0644) >= 0 || errno != EROFS) return 15;
    auto e = enter_rootfs(r);
    if (!e) {
      fprintf(stderr, "enter_rootfs: %s\n", e.error().message.c_str());
      return 16;
    }
    char cwd[64];
    if (!getcwd(cwd, sizeof cwd) || std::string(cwd) != "/") return 17;
    if (stat("/marker", &st) < 0) return 18;
    if (stat((r + "/marker").c_str(), &st) == 0) return 19;  // the old root is gone
    if (stat("/dev/null", &st) < 0 || !S_ISCHR(st.st_mode)) return 20;
    return 0;
  });
  EXPECT_TRUE(exited_ok(ws)) << "child status " << ws << " (exit " << WEXITSTATUS(ws) << ")";
}

// The optional fields of the mountinfo line of `dest` ("shared:3 master:1", "unbindable"),
// or "?" when no such mount.
std::string propagation_of(const std::string& dest) {
  std::ifstream in("/proc/self/mountinfo");
  std::string line, last = "?";
  while (std::getline(in, line)) {
    std::istringstream f(line);
    std::string id, parent, devno, root, point, opts, field, tags;
    f >> id >> parent >> devno >> root >> point >> opts;
    if (point != dest) continue;
    tags.clear();
    while (f >> field && field != "-") tags += (tags.empty() ? "" : " ") + field;
    last = tags;  // the topmost mount on dest
  }
  return last;
}

// A bind of a shared source (guest-init's shares are shared, as a systemd host's mounts)
// ends up with runc's propagation: shared:N in the container's own namespace for `shared`,
// a slave of the source for `slave` (and for no option: the rslave default), nothing for
// `private`, `unbindable`; options a bind ignores (mode=, size=) do not fail it.
TEST(SetupRootfs, BindPropagationAsUnderRunc) {
  SKIP_UNLESS_ROOT();
  TempDir root, share;
  auto m = [](std::string dst, std::string src, oci::StringList opts) {
    return mount_of(std::move(dst), "bind", std::move(src), std::move(opts));
  };
  oci::Spec spec;
  const oci::Mount proc = mount_of("/proc", "proc", "proc");
  spec.mounts =
      std::vector<oci::Mount>{proc,
                              m("/p/shared", share.path(), {"rbind", "shared"}),
                              m("/p/rshared", share.path(), {"rbind", "rshared"}),
                              m("/p/slave", share.path(), {"bind", "rslave"}),
                              m("/p/private", share.path(), {"rbind", "rprivate"}),
                              m("/p/unbindable", share.path(), {"bind", "unbindable"}),
                              m("/p/default", share.path(), {"rbind"}),
                              m("/p/foreign", share.path(), {"bind", "mode=755", "size=1k"})};
  std::string r = root.path(), sh = share.path();
  int ws = run_in_child([&] {
    if (unshare(CLONE_NEWNS) < 0) return 1;
    if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) < 0) return 2;
    if (mount("share", sh.c_str(), "tmpfs", 0, nullptr) < 0) return 3;
    if (mount(nullptr, sh.c_str(), nullptr, MS_SHARED, nullptr) < 0) return 4;
    if (auto s = setup_rootfs(spec, r); !s) {
      fprintf(stderr, "setup_rootfs: %s\n", s.error().message.c_str());
      return 5;
    }
    // The agent's namespace outlives the container's copy; so must this one, or the
    // masters of the slave mounts are gone with it.
    int agent_ns = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
    if (agent_ns < 0) return 8;
    if (auto e = enter_rootfs(r, "", propagation_plan(spec)); !e) {
      fprintf(stderr, "enter_rootfs: %s\n", e.error().message.c_str());
      return 6;
    }
    int bad = 0;
    auto want = [&](const char* dest, const std::string& pattern, bool present) {
      std::string got = propagation_of(dest);
      if ((got.find(pattern) != std::string::npos) != present || got == "?") {
        fprintf(stderr, "%s: %s '%s', got '%s'\n", dest, present ? "want" : "do not want",
                pattern.c_str(), got.c_str());
        ++bad;
      }
    };
    want("/p/shared", "shared:", true);
    want("/p/rshared", "shared:", true);
    want("/p/slave", "master:", true);
    want("/p/slave", "shared:", false);
    want("/p/default", "master:", true);
    want("/p/private", "shared:", false);
    want("/p/private", "master:", false);
    want("/p/unbindable", "unbindable", true);
    want("/p/foreign", "master:", true);
    return bad == 0 ? 0 : 7;
  });
  EXPECT_TRUE(exited_ok(ws)) << "child status " << ws << " (exit " << WEXITSTATUS(ws) << ")";
}

TEST(PropagationPlan, RootfsPropagationThenEachMountInOrder) {
  oci::Spec spec;
  spec.linux = oci::Linux{};
  spec.linux->rootfsPropagation = "rprivate";
  oci::Mount a, b;
  a.destination = "/a";
  a.options = oci::StringList{"rbind", "ro"};
  b.destination = "/b";
  b.options = oci::StringList{"bind", "private", "rshared"};
  spec.mounts = std::vector<oci::Mount>{a, b};
  auto plan = propagation_plan(spec);
  EXPECT_EQ(plan.root, static_cast<unsigned long>(MS_PRIVATE | MS_REC));
  ASSERT_EQ(plan.mounts.size(), 1u);
  EXPECT_EQ(plan.mounts[0].first, "/b");
  EXPECT_EQ(plan.mounts[0].second, static_cast<unsigned long>(MS_SHARED | MS_REC));  // last wins
  // A proc mount is deferred into the container's pid namespace: not in the plan then.
  spec.mounts->push_back(mount_of("/proc", "proc", "proc", {"rprivate"}));
  EXPECT_EQ(propagation_plan(spec).mounts.size(), 2u);
  EXPECT_EQ(propagation_plan(spec, true).mounts.size(), 1u);
}

TEST(SetupRootfs, FailsWithTheMountItWasApplying) {
  SKIP_UNLESS_ROOT();
  TempDir root;
  oci::Spec spec;
  spec.mounts = std::vector<oci::Mount>{mount_of("/x", "nosuchfs", "none")};
  std::string r = root.path();
  int ws = run_in_child([&] {
    if (unshare(CLONE_NEWNS) < 0) return 1;
    if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) < 0) return 2;
    auto s = setup_rootfs(spec, r);
    if (s) return 3;
    return s.error().message.rfind("mounts[0] /x: mount none on ", 0) == 0 ? 0 : 4;
  });
  EXPECT_TRUE(exited_ok(ws)) << "child status " << ws;
}

}  // namespace
}  // namespace runvm::guest
