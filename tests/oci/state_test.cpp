#include <dirent.h>
#include <sys/stat.h>

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "base/file_io.h"
#include "oci/state.h"
#include "test_util.h"

namespace runvm::oci {
namespace {

using testing::TempDir;

std::vector<std::string> list_dir(const std::string& dir) {
  std::vector<std::string> names;
  DIR* d = opendir(dir.c_str());
  if (!d) return names;
  while (auto* e = readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") names.push_back(n);
  }
  closedir(d);
  return names;
}

State sample() {
  State s;
  s.ociVersion = "1.2.0";
  s.id = "abc-123";
  s.status = ContainerStatus::kCreated;
  s.pid = 4242;
  s.bundle = "/var/lib/bundles/abc";
  s.annotations = {{"io.runvm.vm.vcpus", "2"}, {"com.example", "x"}};
  s.runvm.created = "2026-11-22T00:00:00.123456789Z";
  s.runvm.owner = "";
  s.runvm.rootfs = "/var/lib/bundles/abc/rootfs";
  s.runvm.pid_start_time = 987654;
  s.runvm.control_socket = "/run/runvm/abc-123/vmm.sock";
  s.runvm.vsock_socket = "/run/runvm/abc-123/vsock.sock";
  s.runvm.config_path = "/var/lib/bundles/abc/config.json";
  s.runvm.extra = {{"consoleSocket", "/tmp/c.sock"}};
  return s;
}

TEST(State, StatusNames) {
  EXPECT_EQ(to_string(ContainerStatus::kCreating), "creating");
  EXPECT_EQ(to_string(ContainerStatus::kCreated), "created");
  EXPECT_EQ(to_string(ContainerStatus::kRunning), "running");
  EXPECT_EQ(to_string(ContainerStatus::kStopped), "stopped");
  EXPECT_EQ(parse_status("running"), ContainerStatus::kRunning);
  EXPECT_EQ(to_string(ContainerStatus::kPaused), "paused");
  EXPECT_EQ(parse_status("paused"), ContainerStatus::kPaused);
  EXPECT_FALSE(parse_status("frozen").has_value());
}

TEST(State, SpecShapeWithoutPrivateFields) {
  auto j = to_json(sample(), false);
  EXPECT_EQ(j, nlohmann::json::parse(R"({"ociVersion": "1.2.0", "id": "abc-123",
      "status": "created", "pid": 4242, "bundle": "/var/lib/bundles/abc",
      "annotations": {"io.runvm.vm.vcpus": "2", "com.example": "x"}})"));
  State bare = sample();
  bare.annotations.clear();
  EXPECT_FALSE(to_json(bare, false).contains("annotations"));
}

TEST(State, JsonRoundTrip) {
  State s = sample();
  auto back = state_from_json(to_json(s));
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(*back, s);
  EXPECT_EQ(to_json(s)["runvm"]["pidStartTime"], 987654);
}

TEST(State, AtomicWriteAndRead) {
  TempDir dir;
  const std::string path = dir.path() + "/state.json";
  State s = sample();
  ASSERT_TRUE(write_state_atomic(path, s).ok());
  EXPECT_EQ(list_dir(dir.path()), std::vector<std::string>{"state.json"});
  struct stat st {};
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  s.status = ContainerStatus::kStopped;
  s.pid = 0;
  ASSERT_TRUE(write_state_atomic(path, s).ok());  // replaces the old file
  EXPECT_EQ(list_dir(dir.path()), std::vector<std::string>{"state.json"});
  auto back = read_state(path);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(*back, s);
}

TEST(State, WriteIntoMissingDirectoryFailsCleanly) {
  TempDir dir;
  auto r = write_state_atomic(dir.path() + "/nope/state.json", sample());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().err, ENOENT);
  EXPECT_TRUE(list_dir(dir.path()).empty());
}

TEST(State, ReadMissingIsEnoent) {
  TempDir dir;
  auto r = read_state(dir.path() + "/state.json");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().err, ENOENT);
}

TEST(State, BadDocuments) {
  auto a = parse_state(R"({"ociVersion": "1.2.0", "id": "x", "status": "frozen", "pid": 1,
                           "bundle": "/b"})");
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.error().message, "status: unknown status \"frozen\"");
  auto b = parse_state(R"({"ociVersion": "1.2.0", "id": "x", "status": "created", "pid": "1"})");
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.error().message, "pid: expected integer, got string");
  auto c = parse_state(R"({"id": "x", "status": "created", "runvm": {"pidStartTime": -1}})");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().message, "runvm.pidStartTime: -1 is out of range for uint64");
  auto d = parse_state("{");
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().err, EINVAL);
}

TEST(State, WriteFileAtomicMode) {
  TempDir dir;
  const std::string path = dir.path() + "/config.json";
  ASSERT_TRUE(write_file_atomic(path, "{}", 0644).ok());
  struct stat st {};
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);
  auto text = read_file(path);
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(*text, "{}");
}

}  // namespace
}  // namespace runvm::oci
