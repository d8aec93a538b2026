// agent::Client against a guest that stops answering or breaks the protocol.
#include "agent/host_client.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <string>
#include <thread>

#include "base/file_io.h"

namespace runvm::agent {
namespace {

TEST(ClientTimeout, ASilentAgentFailsTheCallInsteadOfHangingIt) {
  int sv[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  Client c(sv[0]);
  c.set_call_timeout(200);
  auto pids = c.ps();  // the peer reads nothing and answers nothing
  ASSERT_FALSE(pids);
  EXPECT_EQ(pids.error().err, ETIMEDOUT);
  EXPECT_NE(pids.error().message.find("agent ps"), std::string::npos) << pids.error().message;
  close(sv[0]);
  close(sv[1]);
}

TEST(ClientTimeout, AClosedConnectionIsAnErrorToo) {
  int sv[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  Client c(sv[0]);
  c.set_call_timeout(5000);
  close(sv[1]);
  auto stats = c.stats();
  ASSERT_FALSE(stats);
  EXPECT_NE(stats.error().err, ETIMEDOUT);
  close(sv[0]);
}

// A connected pair: the Client on one end, a hostile "agent" on the other.
struct Pair {
  Pair() { EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0); }
  ~Pair() {
    close(sv[0]);
    if (sv[1] >= 0) close(sv[1]);
  }
  int sv[2] = {-1, -1};
};

TEST(ClientHostile, HalfAFrameThenSilenceIsAProtocolErrorNotAHang) {
  Pair p;
  Client c(p.sv[0]);
  c.set_frame_completion(300);
  // A frame header announcing 100 bytes, then only 10 of them.
  std::string frame = encode_frame(MsgType::kEvent, std::string(99, 'x'));
  ASSERT_TRUE(write_all(p.sv[1], frame.substr(0, 15)));
  auto start = std::chrono::steady_clock::now();
  auto ev = c.next_event(1000);
  ASSERT_FALSE(ev);
  EXPECT_EQ(ev.error().err, EPROTO) << ev.error().what();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST(ClientHostile, CreditForAHandleNeverGivenIsRefused) {
  Pair p;
  Client c(p.sv[0]);
  ASSERT_TRUE(
      write_all(p.sv[1], encode_frame(MsgType::kCredit, encode_credit(CreditMsg{12345, 1}))));
  ASSERT_TRUE(write_all(
      p.sv[1], encode_frame(MsgType::kData, encode_data(DataMsg{1, Stream::kStdout, "x"}))));
  auto ev = c.next_event(1000);
  ASSERT_FALSE(ev);
  EXPECT_NE(ev.error().what().find("unknown handle 12345"), std::string::npos) << ev.error().what();
}

TEST(ClientHostile, OutputFloodDuringACallIsBounded) {
  Pair p;
  Client c(p.sv[0]);
  c.set_call_timeout(30000);
  // The "agent" answers a request with stdout data only, never the response.
  signal(SIGPIPE, SIG_IGN);  // the flood's last write meets a shut-down socket
  std::atomic<bool> stop{false};
  std::thread flood([&] {
    const std::string chunk = encode_frame(
        MsgType::kData, encode_data(DataMsg{1, Stream::kStdout, std::string(kMaxDataChunk, 'o')}));
    while (!stop && write_all(p.sv[1], chunk)) {
    }
  });
  auto pids = c.ps();
  stop = true;
  shutdown(p.sv[0], SHUT_RDWR);  // unblocks the flood's write
  flood.join();
  ASSERT_FALSE(pids);
  EXPECT_NE(pids.error().what().find("without being read"), std::string::npos)
      << pids.error().what();
}

TEST(ClientHostile, DeeplyNestedJsonIsADecodingError) {
  std::string deep = R"({"process_id":"p","handle":1,"status":{"a":)";
  for (int i = 0; i < 100; ++i) deep += "[";
  for (int i = 0; i < 100; ++i) deep += "]";
  deep += "}}";
  auto e = decode_event(deep);
  ASSERT_FALSE(e);
  EXPECT_NE(e.error().what().find("nested deeper"), std::string::npos) << e.error().what();
}

}  // namespace
}  // namespace runvm::agent
