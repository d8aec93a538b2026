// validate_tx_header() and tap_offloads(): the pure rules a guest TX header
// must pass and the tap offloads a driver's features ask for.
#include "vmm/devices/virtio/net/net_header.h"

#include <gtest/gtest.h>
#include <linux/if_tun.h>

namespace runvm::vmm::virtio::net {
namespace {

constexpr uint64_t kAll = kFCsum | kFHostTso4 | kFHostTso6;

VirtioNetHdr tso4(uint16_t mss = 1448) {
  VirtioNetHdr h;
  h.flags = kHdrFNeedsCsum;
  h.gso_type = kGsoTcpV4;
  h.hdr_len = 54;
  h.gso_size = mss;
  h.csum_start = 34;
  h.csum_offset = 16;
  return h;
}

TEST(NetHeader, AcceptsPlainAndOffloadedFrames) {
  EXPECT_TRUE(validate_tx_header(VirtioNetHdr{}, 60, 0).ok());
  EXPECT_TRUE(validate_tx_header(VirtioNetHdr{}, kEthHeaderLen, 0).ok());
  EXPECT_TRUE(validate_tx_header(VirtioNetHdr{}, kMaxFrameLen, 0).ok());
  EXPECT_TRUE(validate_tx_header(tso4(), 9000, kAll).ok());
  VirtioNetHdr v6 = tso4();
  v6.gso_type = kGsoTcpV6;
  EXPECT_TRUE(validate_tx_header(v6, 9000, kAll).ok());
  // The checksum field may end exactly at the end of the frame.
  VirtioNetHdr c;
  c.flags = kHdrFNeedsCsum;
  c.csum_start = 58;
  c.csum_offset = 0;
  EXPECT_TRUE(validate_tx_header(c, 60, kFCsum).ok());
  c.hdr_len = 60;
  EXPECT_TRUE(validate_tx_header(c, 60, kFCsum).ok());
}

TEST(NetHeader, RejectsBadFrames) {
  struct Case {
    const char* what;
    VirtioNetHdr h;
    size_t len;
    uint64_t features;
  };
  VirtioNetHdr csum_out;
  csum_out.flags = kHdrFNeedsCsum;
  csum_out.csum_start = 59;
  csum_out.csum_offset = 0;
  VirtioNetHdr csum_max = csum_out;
  csum_max.csum_start = 0xffff;
  csum_max.csum_offset = 0xffff;
  VirtioNetHdr unknown_gso;
  unknown_gso.gso_type = 2;
  unknown_gso.flags = kHdrFNeedsCsum;
  unknown_gso.gso_size = 1000;
  VirtioNetHdr udp = tso4();
  udp.gso_type = kGsoUdp;
  VirtioNetHdr uso = tso4();
  uso.gso_type = kGsoUdpL4;
  VirtioNetHdr ecn = tso4();
  ecn.gso_type = kGsoTcpV4 | kGsoEcn;
  VirtioNetHdr no_csum = tso4();
  no_csum.flags = 0;
  VirtioNetHdr big_hdr;
  big_hdr.hdr_len = 61;
  VirtioNetHdr data_valid;
  data_valid.flags = kHdrFDataValid;
  VirtioNetHdr rsc;
  rsc.flags = kHdrFRscInfo;
  VirtioNetHdr high_flag;
  high_flag.flags = 0x80;
  for (const Case& c : std::initializer_list<Case>{
           {"shorter than an Ethernet header", VirtioNetHdr{}, kEthHeaderLen - 1, kAll},
           {"empty frame", VirtioNetHdr{}, 0, kAll},
           {"longer than the maximum", VirtioNetHdr{}, kMaxFrameLen + 1, kAll},
           {"csum field past the end", csum_out, 60, kAll},
           {"csum offsets at their maximum", csum_max, 60, kAll},
           {"NEEDS_CSUM without F_CSUM", csum_out, 100, kFHostTso4},
           {"unknown gso type", unknown_gso, 9000, kAll},
           {"UDP fragmentation not offered", udp, 9000, kAll},
           {"UDP segmentation not offered", uso, 9000, kAll},
           {"ECN not offered", ecn, 9000, kAll},
           {"TSO4 not negotiated", tso4(), 9000, kFCsum | kFHostTso6},
           {"TSO6 not negotiated",
            [] {
              VirtioNetHdr h = tso4();
              h.gso_type = kGsoTcpV6;
              return h;
            }(),
            9000, kFCsum | kFHostTso4},
           {"GSO without NEEDS_CSUM", no_csum, 9000, kAll},
           {"GSO with gso_size 0", tso4(0), 9000, kAll},
           {"hdr_len beyond the frame", big_hdr, 60, kAll},
           {"DATA_VALID on tx", data_valid, 60, kAll},
           {"RSC_INFO on tx", rsc, 60, kAll},
           {"unknown flag", high_flag, 60, kAll},
       }) {
    Status st = validate_tx_header(c.h, c.len, c.features);
    EXPECT_FALSE(st.ok()) << c.what;
    if (!st.ok()) {
      EXPECT_FALSE(st.error().what().empty()) << c.what;
    }
  }
}

TEST(NetHeader, ErrorsNameTheProblem) {
  VirtioNetHdr h;
  h.gso_type = 7;
  auto st = validate_tx_header(h, 60, kAll);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().what().find("gso_type 7"), std::string::npos) << st.error().what();
}

TEST(NetHeader, TapOffloadsFollowWhatTheGuestReceives) {
  EXPECT_EQ(tap_offloads(0), 0u);
  // TSO without CSUM is meaningless to the tap: nothing.
  EXPECT_EQ(tap_offloads(kFGuestTso4 | kFGuestTso6), 0u);
  // Host-side (guest TX) bits do not matter here.
  EXPECT_EQ(tap_offloads(kFCsum | kFHostTso4 | kFHostTso6), 0u);
  EXPECT_EQ(tap_offloads(kFGuestCsum), unsigned{TUN_F_CSUM});
  EXPECT_EQ(tap_offloads(kFGuestCsum | kFGuestTso4), unsigned{TUN_F_CSUM | TUN_F_TSO4});
  EXPECT_EQ(tap_offloads(kFGuestCsum | kFGuestTso4 | kFGuestTso6),
            unsigned{TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6});
}

}  // namespace
}  // namespace runvm::vmm::virtio::net
