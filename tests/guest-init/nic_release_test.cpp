// release_undescribed_nics on a directory laid out like /sys/bus/virtio/drivers/virtio_net
// (virtioN/net/<ifname>/address, and an unbind file that records what was written).
#include "guest-init/nic_release.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/support/temp_dir.h"

namespace runvm::guest {
namespace {

namespace fs = std::filesystem;

class NicRelease : public ::testing::Test {
 protected:
  void SetUp() override { std::ofstream(dir() + "/unbind").flush(); }
  std::string dir() const { return tmp_.path(); }
  void add_device(const std::string& dev, const std::string& ifname, const std::string& mac) {
    fs::create_directories(dir() + "/" + dev + "/net/" + ifname);
    std::ofstream(dir() + "/" + dev + "/net/" + ifname + "/address") << mac << "\n";
  }
  std::string unbound() const {
    std::ifstream in(dir() + "/unbind");
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
  runvm::testing::TempDir tmp_;
};

agent::NetworkConfig one_nic(const std::string& guest_mac, const std::string& mac) {
  agent::NetworkConfig c;
  agent::NetInterface n;
  n.guest_mac = guest_mac;
  n.mac = mac;
  n.name = "eth0";
  c.interfaces.push_back(n);
  return c;
}

TEST_F(NicRelease, NoInterfacesUnbindsTheNic) {
  add_device("virtio2", "eth0", "02:aa:bb:cc:dd:01");
  auto r = release_undescribed_nics(agent::NetworkConfig{}, dir());
  ASSERT_TRUE(r.ok()) << r.error().what();
  EXPECT_EQ(*r, 1);
  EXPECT_EQ(unbound(), "virtio2");
}

TEST_F(NicRelease, TheDescribedNicStaysByEitherMac) {
  add_device("virtio2", "eth0", "0A:58:0A:01:01:02");  // took the host link's MAC
  auto r = release_undescribed_nics(one_nic("02:00:00:00:00:09", "0a:58:0a:01:01:02"), dir());
  ASSERT_TRUE(r.ok()) << r.error().what();
  EXPECT_EQ(*r, 0);
  r = release_undescribed_nics(one_nic("0a:58:0a:01:01:02", "02:11:11:11:11:11"), dir());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 0);
  EXPECT_EQ(unbound(), "");
}

TEST_F(NicRelease, AnUndescribedNicGoesAndTheDescribedOneStays) {
  add_device("virtio2", "eth0", "0a:58:0a:01:01:02");
  add_device("virtio3", "eth1", "02:00:00:00:00:03");
  auto r = release_undescribed_nics(one_nic("02:00:00:00:00:09", "0a:58:0a:01:01:02"), dir());
  ASSERT_TRUE(r.ok()) << r.error().what();
  EXPECT_EQ(*r, 1);
  EXPECT_EQ(unbound(), "virtio3");
}

TEST_F(NicRelease, NoDriverDirectoryIsNoNic) {
  auto r = release_undescribed_nics(agent::NetworkConfig{}, dir() + "/missing");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 0);
}

TEST_F(NicRelease, AnUnwritableUnbindIsAnErrorNamingTheDevice) {
  add_device("virtio4", "eth0", "02:aa:bb:cc:dd:04");
  fs::remove(dir() + "/unbind");
  fs::create_directory(dir() + "/unbind");  // open(O_WRONLY) fails: EISDIR
  auto r = release_undescribed_nics(agent::NetworkConfig{}, dir());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("unbind"), std::string::npos) << r.error().message;
}

}  // namespace
}  // namespace runvm::guest
