// The host side of the agent protocol against a hostile guest: the input is
// the byte stream the "agent" sends. It goes through the Client's frame reader,
// decoders and state machine (a create for a known handle, then events until
// the stream ends) and through each body decoder directly. Nothing may crash,
// and what the Client queues stays within its bounds (checked by its own
// errors; libFuzzer's -rss_limit_mb catches growth beyond them).
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "agent/host_client.h"
#include "agent/protocol.h"
#include "base/file_io.h"

namespace {

void feed(const std::string& stream, bool with_create) {
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) return;
  // A stream larger than the socket buffer would block this single thread.
  const size_t n = std::min<size_t>(stream.size(), 100000);
  (void)runvm::write_all(sv[1], std::string_view(stream).substr(0, n));
  shutdown(sv[1], SHUT_WR);
  runvm::agent::Client c(sv[0]);
  c.set_frame_completion(0);  // everything there is was written already
  c.set_call_timeout(1000);   // EOF or data is always there: never waited for
  if (with_create) (void)c.create("c", nlohmann::json::object());
  for (int i = 0; i < 10000; ++i) {
    auto ev = c.next_event(0);
    if (!ev) break;
  }
  close(sv[0]);
  close(sv[1]);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static bool once = [] {
    signal(SIGPIPE, SIG_IGN);
    return true;
  }();
  (void)once;
  if (size == 0) return 0;
  std::string in(reinterpret_cast<const char*>(data + 1), size - 1);
  switch (data[0] % 3) {
    case 0:
      feed(in, false);
      break;
    case 1:
      feed(in, true);
      break;
    default:
      (void)runvm::agent::decode_response(in);
      (void)runvm::agent::decode_event(in);
      (void)runvm::agent::decode_data(in);
      (void)runvm::agent::decode_credit(in);
      (void)runvm::agent::decode_hello_reply(in);
      break;
  }
  return 0;
}
