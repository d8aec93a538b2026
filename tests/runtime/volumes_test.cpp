// share_bind_mounts(): host directories bound into the container become extra
// virtio-fs shares, host files guest-side binds out of the file shares;
// everything else about the mounts list stays as it was.
#include "runtime/vm/volumes.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "tests/runtime/test_support.h"

namespace runvm::runtime::vm {
namespace {

namespace fs = std::filesystem;

class Volumes : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(dir_ + "/data");
    fs::create_directories(dir_ + "/bundle/cache");
    fs::create_directories(dir_ + "/state");  // the container's state directory
    std::ofstream(dir_ + "/file.txt") << "x";
  }
  testing::TempDir tmp_;
  const std::string dir_ = tmp_.path();
  const std::string files_ = dir_ + "/state/files";
};

TEST_F(Volumes, DirectoryBindsBecomeShares) {
  auto config = nlohmann::json::parse(R"({"mounts": [
      {"destination": "/proc", "type": "proc", "source": "proc"},
      {"destination": "/data", "type": "bind", "source": ")" +
                                      dir_ + R"(/data", "options": ["rbind", "ro", "nosuid"]},
      {"destination": "/cache", "source": "cache", "options": ["bind"]}]})");
  auto shared = share_bind_mounts(config, dir_ + "/bundle", files_);
  ASSERT_TRUE(shared) << shared.error().message;
  EXPECT_TRUE(shared->files.empty());
  EXPECT_EQ(shared->guest_shares, (std::vector<std::string>{"runvm-vol0", "runvm-vol1"}));
  const auto* v = &shared->volumes;
  ASSERT_EQ(v->size(), 2u);
  EXPECT_EQ((*v)[0].tag, "runvm-vol0");
  EXPECT_EQ((*v)[0].host_path, dir_ + "/data");
  EXPECT_TRUE((*v)[0].readonly);
  EXPECT_EQ((*v)[1].tag, "runvm-vol1");
  EXPECT_EQ((*v)[1].host_path, dir_ + "/bundle/cache");  // relative to the bundle
  EXPECT_FALSE((*v)[1].readonly);
  EXPECT_EQ(config["mounts"][0]["type"], "proc");
  // A guest-side bind of the share, with the options the guest applies to a bind.
  EXPECT_EQ(config["mounts"][1], nlohmann::json::parse(R"({"destination": "/data", "type": "bind",
      "source": "/run/runvm/shares/runvm-vol0", "options": ["ro", "nosuid"]})"));
  EXPECT_EQ(config["mounts"][2]["type"], "bind");
  EXPECT_EQ(config["mounts"][2]["source"], "/run/runvm/shares/runvm-vol1");
  EXPECT_EQ(config["mounts"][2]["options"], nlohmann::json::array());
}

// runc ignores options that mean nothing to a bind (mode=, size=); they must not reach a
// mount that would fail on them, and several mounts of one directory share one device.
TEST_F(Volumes, ForeignOptionsAndRepeatedSourcesShareOneDevice) {
  auto config = nlohmann::json::parse(R"({"mounts": [
      {"destination": "/a", "type": "bind", "source": ")" +
                                      dir_ + R"(/data", "options": ["rbind", "shared"]},
      {"destination": "/b", "type": "bind", "source": ")" +
                                      dir_ + R"(/data", "options": ["bind", "mode=755", "size=1k"]},
      {"destination": "/c", "type": "bind", "source": ")" +
                                      dir_ + R"(/data", "options": ["ro", "rw", "rslave"]},
      {"destination": "/d", "type": "bind", "source": ")" +
                                      dir_ + R"(/data", "options": ["rw", "ro"]}]})");
  auto shared = share_bind_mounts(config, dir_, files_);
  ASSERT_TRUE(shared) << shared.error().message;
  ASSERT_EQ(shared->volumes.size(), 2u);  // rw and ro: the last of ro/rw wins
  EXPECT_FALSE(shared->volumes[0].readonly);
  EXPECT_TRUE(shared->volumes[1].readonly);
  EXPECT_EQ(shared->guest_shares, (std::vector<std::string>{"runvm-vol0", "runvm-vol1"}));
  for (int i : {0, 1, 2}) EXPECT_EQ(config["mounts"][i]["source"], "/run/runvm/shares/runvm-vol0");
  EXPECT_EQ(config["mounts"][3]["source"], "/run/runvm/shares/runvm-vol1");
  EXPECT_EQ(config["mounts"][1]["options"], nlohmann::json::parse(R"(["mode=755", "size=1k"])"));
  EXPECT_EQ(config["mounts"][0]["options"], nlohmann::json::parse(R"(["shared"])"));
}

TEST_F(Volumes, SymlinkedSourceIsShareByItsRealPath) {
  fs::create_directory_symlink(dir_ + "/data", dir_ + "/link");
  auto config = nlohmann::json::parse(
      R"({"mounts": [{"destination": "/d", "type": "bind", "source": ")" + dir_ + R"(/link"}]})");
  auto v = share_bind_mounts(config, dir_, files_);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->volumes[0].host_path, dir_ + "/data");
}

TEST_F(Volumes, MissingSourceAndSpecialFilesAreNamed) {
  auto missing = nlohmann::json::parse(
      R"({"mounts": [{"destination": "/x", "type": "bind", "source": "/nonexistent/vol"}]})");
  auto r = share_bind_mounts(missing, dir_, files_);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "mounts[0].source \"/nonexistent/vol\": No such file or directory");
  auto dev = nlohmann::json::parse(
      R"({"mounts": [{"destination": "/dev/n", "type": "bind", "source": "/dev/null"}]})");
  auto d = share_bind_mounts(dev, dir_, files_);
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().err, ENOTSUP);
  EXPECT_NE(d.error().message.find("mounts[0].source \"/dev/null\": only directories and regular"),
            std::string::npos)
      << d.error().message;
}

TEST_F(Volumes, FileBindsBecomeGuestBindsOutOfTheFileShares) {
  std::ofstream(dir_ + "/hosts") << "127.0.0.1 localhost\n";
  auto config = nlohmann::json::parse(R"({"mounts": [
      {"destination": "/etc/resolv.conf", "type": "bind", "source": ")" +
                                      dir_ + R"(/file.txt", "options": ["rbind", "rprivate"]},
      {"destination": "/data", "type": "bind", "source": ")" +
                                      dir_ + R"(/data", "options": ["rbind"]},
      {"destination": "/etc/hosts", "source": "../hosts", "options": ["bind", "ro"]}]})");
  auto shared = share_bind_mounts(config, dir_ + "/bundle", files_);
  ASSERT_TRUE(shared) << shared.error().message;
  ASSERT_EQ(shared->files.size(), 2u);
  EXPECT_EQ(shared->files[0].host_path, dir_ + "/file.txt");
  EXPECT_EQ(shared->files[0].staged, files_ + "/rw/0");
  EXPECT_FALSE(shared->files[0].readonly);
  EXPECT_EQ(shared->files[0].destination, "/etc/resolv.conf");
  EXPECT_EQ(shared->files[1].host_path, dir_ + "/hosts");  // relative to the bundle
  EXPECT_EQ(shared->files[1].staged, files_ + "/ro/1");
  EXPECT_TRUE(shared->files[1].readonly);
  // The directory volume keeps runvm-vol0; the file shares come after it, the
  // read-only one read-only in the VMM too.
  ASSERT_EQ(shared->volumes.size(), 3u);
  EXPECT_EQ(shared->volumes[0].tag, "runvm-vol0");
  EXPECT_EQ(shared->volumes[1].tag, "runvm-files");
  EXPECT_EQ(shared->volumes[1].host_path, files_ + "/rw");
  EXPECT_FALSE(shared->volumes[1].readonly);
  EXPECT_EQ(shared->volumes[2].tag, "runvm-files-ro");
  EXPECT_EQ(shared->volumes[2].host_path, files_ + "/ro");
  EXPECT_TRUE(shared->volumes[2].readonly);
  EXPECT_EQ(shared->guest_shares,
            (std::vector<std::string>{"runvm-vol0", "runvm-files", "runvm-files-ro"}));
  EXPECT_EQ(config["mounts"][0], nlohmann::json::parse(R"({"destination": "/etc/resolv.conf",
      "type": "bind", "source": "/run/runvm/shares/runvm-files/0", "options": ["rprivate"]})"));
  EXPECT_EQ(config["mounts"][2], nlohmann::json::parse(R"({"destination": "/etc/hosts",
      "type": "bind", "source": "/run/runvm/shares/runvm-files-ro/1", "options": ["ro"]})"));

  EXPECT_EQ(shared->files_rw_dir, files_ + "/rw");
  EXPECT_EQ(shared->files_ro_dir, files_ + "/ro");

  // The host side only gets the empty share roots; the placeholders live in the
  // VMM's namespace (FileBindsLiveInATmpfsOfTheVmmsNamespace).
  ASSERT_TRUE(stage_file_binds(*shared, files_));
  for (const char* d : {"/rw", "/ro"}) {
    EXPECT_TRUE(fs::is_directory(files_ + d)) << d;
    EXPECT_TRUE(fs::is_empty(files_ + d)) << d;
  }
}

// In a forked child (a mount namespace needs CAP_SYS_ADMIN; skipped without):
// the files are bound onto placeholders in a bounded tmpfs, the read-only one
// refuses writes, what the guest adds beside them is capped and never reaches
// the host's state directory.
TEST_F(Volumes, FileBindsLiveInATmpfsOfTheVmmsNamespace) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root for a mount namespace";
  std::ofstream(dir_ + "/hosts") << "127.0.0.1 localhost\n";
  auto config = nlohmann::json::parse(R"({"mounts": [
      {"destination": "/etc/resolv.conf", "source": ")" +
                                      dir_ + R"(/file.txt", "options": ["bind"]},
      {"destination": "/etc/hosts", "source": ")" +
                                      dir_ + R"(/hosts", "options": ["bind", "ro"]}]})");
  auto shared = share_bind_mounts(config, dir_, files_);
  ASSERT_TRUE(shared) << shared.error().message;
  ASSERT_TRUE(stage_file_binds(*shared, files_));
  const std::string rw0 = files_ + "/rw/0", ro1 = files_ + "/ro/1";
  const std::string big = files_ + "/rw/big", beside = files_ + "/ro/new";
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    const char* what = "";
    if (bind_files_in_new_namespace(*shared, &what) != 0) ::_exit(10);
    // The bound host files, through their placeholders.
    std::ifstream in(rw0);
    std::string x;
    if (!(in >> x) || x != "x") ::_exit(11);
    if (::open(ro1.c_str(), O_WRONLY | O_CLOEXEC) >= 0 || errno != EROFS) ::_exit(12);
    if (::open(beside.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0600) >= 0 || errno != EROFS)
      ::_exit(13);
    // 2 MiB into a 1 MiB tmpfs: ENOSPC.
    int fd = ::open(big.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
    if (fd < 0) ::_exit(14);
    static char block[64 << 10];
    int err = 0;
    for (int i = 0; i < 32 && err == 0; ++i)
      if (::write(fd, block, sizeof block) < 0) err = errno;
    ::_exit(err == ENOSPC ? 0 : 15);
  }
  int ws = 0;
  ASSERT_EQ(::waitpid(pid, &ws, 0), pid);
  ASSERT_TRUE(WIFEXITED(ws));
  EXPECT_EQ(WEXITSTATUS(ws), 0) << "10 bind, 11 read, 12/13 ro share writable, 14 create, 15 no "
                                   "ENOSPC";
  // Nothing of it on the host: the state directory holds the empty roots only.
  EXPECT_TRUE(fs::is_empty(files_ + "/rw"));
  EXPECT_TRUE(fs::is_empty(files_ + "/ro"));
  std::ifstream host(dir_ + "/file.txt");
  std::string x;
  EXPECT_TRUE(host >> x);
  EXPECT_EQ(x, "x");
}

TEST_F(Volumes, StagingFailsWithTheDirectoryNamed) {
  auto config = nlohmann::json::parse(R"({"mounts": [{"destination": "/f", "type": "bind",
      "source": ")" + dir_ + R"(/file.txt"}]})");
  auto shared = share_bind_mounts(config, dir_, dir_ + "/missing-parent/files");
  ASSERT_TRUE(shared);
  auto s = stage_file_binds(*shared, dir_ + "/missing-parent/files");
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("mkdir " + dir_ + "/missing-parent/files"), std::string::npos)
      << s.error().message;
}

TEST_F(Volumes, NoFileBindsNeedNoNamespace) {
  const char* what = "untouched";
  EXPECT_EQ(bind_files_in_new_namespace(SharedMounts{}, &what), 0);
  EXPECT_STREQ(what, "untouched");
}

TEST_F(Volumes, NoMountsNoShares) {
  nlohmann::json config = nlohmann::json::object();
  auto v = share_bind_mounts(config, dir_, files_);
  ASSERT_TRUE(v);
  EXPECT_TRUE(v->volumes.empty());
  EXPECT_TRUE(v->files.empty());
}

}  // namespace
}  // namespace runvm::runtime::vm
