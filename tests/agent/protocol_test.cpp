// Framing and message validation of the agent protocol: round trips and the
// rejection of malformed input from a hostile peer.
#include "agent/protocol.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <random>

namespace runvm::agent {
namespace {

using json = nlohmann::json;

std::string raw_frame(uint32_t len, uint8_t type, std::string_view body) {
  std::string s;
  for (int i = 3; i >= 0; --i) s.push_back(static_cast<char>(len >> (8 * i)));
  s.push_back(static_cast<char>(type));
  s.append(body);
  return s;
}

json sample_process() {
  return json{{"args", {"/bin/sh", "-c", "echo hi"}},
              {"env", {"PATH=/bin", "A=b"}},
              {"cwd", "/"},
              {"terminal", true},
              {"consoleSize", {{"height", 24}, {"width", 80}}},
              {"user", {{"uid", 1000}, {"gid", 100}, {"umask", 022}, {"additionalGids", {5, 6}}}}};
}

TEST(FrameDecoder, SplitsFramesAcrossArbitraryChunks) {
  std::string wire = encode_frame(MsgType::kHello, "abc") + encode_frame(MsgType::kData, "") +
                     encode_frame(MsgType::kEvent, std::string(1000, 'x'));
  FrameDecoder d;
  std::vector<Frame> got;
  for (char c : wire) {  // one byte at a time: the worst case
    d.feed(&c, 1);
    for (;;) {
      auto f = d.next();
      ASSERT_TRUE(f) << f.error().message;
      if (!*f) break;
      got.push_back(std::move(**f));
    }
  }
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].type, MsgType::kHello);
  EXPECT_EQ(got[0].body, "abc");
  EXPECT_EQ(got[1].type, MsgType::kData);
  EXPECT_EQ(got[1].body, "");
  EXPECT_EQ(got[2].body.size(), 1000u);
  EXPECT_EQ(d.buffered(), 0u);
}

TEST(FrameDecoder, RejectsOversizedLengthBeforeReadingTheBody) {
  FrameDecoder d;
  std::string hdr = raw_frame(kMaxFrameBody + 2, 3, "");
  d.feed(hdr.data(), hdr.size());
  auto f = d.next();
  ASSERT_FALSE(f);
  EXPECT_NE(f.error().message.find("exceeds the maximum"), std::string::npos);
}

TEST(FrameDecoder, RejectsZeroLengthAndUnknownType) {
  for (auto wire : {raw_frame(0, 1, ""), raw_frame(1, 0, ""), raw_frame(1, 99, "")}) {
    FrameDecoder d;
    d.feed(wire.data(), wire.size());
    EXPECT_FALSE(d.next());
  }
}

TEST(ReadFrame, ReadsFromAStreamAndReportsEof) {
  int sv[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  ASSERT_TRUE(write_all(sv[0], encode_frame(MsgType::kResponse, "{}")));
  close(sv[0]);
  auto f = read_frame(sv[1]);
  ASSERT_TRUE(f) << f.error().message;
  EXPECT_EQ(f->type, MsgType::kResponse);
  EXPECT_EQ(f->body, "{}");
  auto eof = read_frame(sv[1]);
  ASSERT_FALSE(eof);
  EXPECT_NE(eof.error().message.find("closed"), std::string::npos);
  close(sv[1]);
}

TEST(Data, RoundTripsAndValidates) {
  DataMsg m{0x01020304, Stream::kStderr, std::string("a\0b", 3)};
  auto body = encode_data(m);
  EXPECT_EQ(body.substr(0, 5), std::string("\x01\x02\x03\x04\x02", 5));
  auto back = decode_data(body);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, m);
  EXPECT_FALSE(decode_data("abcd"));                        // short header
  EXPECT_FALSE(decode_data(std::string("\0\0\0\1\3", 5)));  // unknown stream
  EXPECT_FALSE(decode_data(std::string("\0\0\0\1\0", 5)));  // empty stdin
  EXPECT_TRUE(decode_data(std::string("\0\0\0\1\1", 5)));   // stdout EOF
  EXPECT_FALSE(decode_data(std::string("\0\0\0\1\1", 5) + std::string(kMaxDataChunk + 1, 'x')));
}

TEST(Credit, RoundTripsAndRejectsWrongSize) {
  auto back = decode_credit(encode_credit(CreditMsg{7, 65536}));
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, (CreditMsg{7, 65536}));
  EXPECT_FALSE(decode_credit("1234567"));
}

TEST(Hello, ValidatesVersions) {
  auto h = decode_hello(encode_hello(Hello{1, 3}));
  ASSERT_TRUE(h);
  EXPECT_EQ(h->min_version, 1u);
  EXPECT_EQ(h->max_version, 3u);
  EXPECT_FALSE(decode_hello(R"({"min_version":3,"max_version":1})"));
  EXPECT_FALSE(decode_hello(R"({"min_version":-1,"max_version":1})"));
  EXPECT_FALSE(decode_hello(R"({"max_version":1})"));
  EXPECT_FALSE(decode_hello("[1,2]"));
  EXPECT_FALSE(decode_hello("{not json"));
  auto r = decode_hello_reply(encode_hello_reply(HelloReply{1, "runvm-agent", std::nullopt}));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->agent, "runvm-agent");
  EXPECT_FALSE(r->boot);
}

TEST(Hello, ReplyCarriesTheGuestsBootSteps) {
  GuestBootTimes t{.now = 900, .init = 100, .modules = 300, .rootfs = 500, .listen = 700};
  auto r = decode_hello_reply(encode_hello_reply(HelloReply{1, "runvm-init", t}));
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_TRUE(r->boot);
  EXPECT_EQ(*r->boot, t);
  // Steps left out are 0 (not reached); anything but an object of small unsigned numbers
  // is refused, naming the field.
  auto partial = decode_hello_reply(R"({"version":1,"agent":"a","boot":{"now":5,"init":1}})");
  ASSERT_TRUE(partial);
  EXPECT_EQ(partial->boot->modules, 0u);
  auto neg = decode_hello_reply(R"({"version":1,"agent":"a","boot":{"now":-5}})");
  ASSERT_FALSE(neg);
  EXPECT_NE(neg.error().message.find("boot"), std::string::npos) << neg.error().message;
  EXPECT_FALSE(decode_hello_reply(R"({"version":1,"agent":"a","boot":[1]})"));
  EXPECT_FALSE(decode_hello_reply(R"({"version":1,"agent":"a","boot":{"now":"1"}})"));
  EXPECT_FALSE(
      decode_hello_reply(R"({"version":1,"agent":"a","boot":{"now":18446744073709551615}})"));
}

TEST(ProcessSpec, ParsesTheOciFields) {
  auto p = parse_process_spec(sample_process());
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->args, (std::vector<std::string>{"/bin/sh", "-c", "echo hi"}));
  EXPECT_EQ(p->env.size(), 2u);
  EXPECT_EQ(p->cwd, "/");
  EXPECT_TRUE(p->terminal);
  EXPECT_EQ(p->rows, 24);
  EXPECT_EQ(p->cols, 80);
  EXPECT_EQ(p->uid, 1000u);
  EXPECT_EQ(p->gid, 100u);
  EXPECT_EQ(p->umask, 022u);
  EXPECT_EQ(p->additional_gids, (std::vector<uint32_t>{5, 6}));
}

TEST(ProcessSpec, RejectsBadFieldsNamingThem) {
  struct Case {
    const char* field;
    json value;
    const char* expect;
  } cases[] = {
      {"args", json::array(), "args: must not be empty"},
      {"args", json{"a", 1}, "args[1]: expected string"},
      {"args", std::string("x"), "args: expected array"},
      {"env", json{"NOEQUALS"}, "env[0]"},
      {"cwd", "relative", "cwd: must be an absolute path"},
      {"terminal", "yes", "terminal: expected boolean"},
      {"user", json{{"uid", -1}}, "uid: must not be negative"},
      {"user", json{{"uid", 1ull << 32}}, "uid: 4294967296 is out of range"},
      {"user", json{{"umask", 01000}}, "umask"},
      {"consoleSize", json{{"height", 70000}}, "height"},
  };
  for (const auto& c : cases) {
    json j = sample_process();
    j[c.field] = c.value;
    auto p = parse_process_spec(j);
    ASSERT_FALSE(p) << c.field;
    EXPECT_NE(p.error().message.find(c.expect), std::string::npos)
        << c.field << ": " << p.error().message;
  }
  json nul = sample_process();
  nul["args"][0] = std::string("a\0b", 3);
  EXPECT_FALSE(parse_process_spec(nul));
  json noargs = sample_process();
  noargs.erase("args");
  EXPECT_FALSE(parse_process_spec(noargs));
}

TEST(Request, RoundTripsEveryOp) {
  std::vector<RequestBody> bodies = {
      CreateReq{"ctr1", json{{"ociVersion", "1.2.0"}, {"process", sample_process()}}, true},
      StartReq{},
      ExecReq{"exec-1", sample_process(), false},
      SignalReq{"init", 15, false},
      SignalReq{"", 9, true},
      CloseStdinReq{"init"},
      ResizeReq{"exec-1", 50, 132},
      PsReq{},
      WaitReq{"exec-1"},
      StatsReq{},
      UpdateReq{json{{"memory", {{"limit", 1048576}}}}},
      DestroyReq{},
  };
  uint64_t id = 1;
  for (auto& b : bodies) {
    Request r{id++, b};
    auto back = decode_request(encode_request(r));
    ASSERT_TRUE(back) << op_name(b) << ": " << back.error().message;
    EXPECT_EQ(back->id, r.id);
    EXPECT_EQ(back->body.index(), b.index());
    EXPECT_EQ(op_name(back->body), op_name(b));
  }
  auto sig = decode_request(encode_request(Request{5, SignalReq{"init", 15, false}}));
  EXPECT_EQ(std::get<SignalReq>(sig->body).signal, 15);
  EXPECT_EQ(std::get<SignalReq>(sig->body).process_id, "init");
  auto rs = decode_request(encode_request(Request{6, ResizeReq{"p", 50, 132}}));
  EXPECT_EQ(std::get<ResizeReq>(rs->body).rows, 50);
  EXPECT_EQ(std::get<ResizeReq>(rs->body).cols, 132);
  auto up = decode_request(encode_request(Request{7, UpdateReq{json{{"pids", {{"limit", 9}}}}}}));
  EXPECT_EQ(std::get<UpdateReq>(up->body).resources["pids"]["limit"], 9);
}

TEST(Request, NamesTheContainerOfAPodVm) {
  // Any request may name its container; create names it in its body and may carry the
  // guest path of a pod member's rootfs.
  auto sig = decode_request(encode_request(Request{5, SignalReq{"init", 15, false}, "m1"}));
  ASSERT_TRUE(sig) << sig.error().message;
  EXPECT_EQ(sig->container_id, "m1");
  auto plain = decode_request(encode_request(Request{6, PsReq{}}));
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->container_id, "");
  auto cr = decode_request(encode_request(Request{
      7, CreateReq{"m2", json{{"process", sample_process()}}, false, "/run/pod/m2/rootfs"}}));
  ASSERT_TRUE(cr) << cr.error().message;
  EXPECT_EQ(cr->container_id, "m2");
  EXPECT_EQ(std::get<CreateReq>(cr->body).rootfs, "/run/pod/m2/rootfs");
  // A rootfs that is relative or climbs, and a container id with a slash, are refused.
  for (const char* bad : {"run/x", "/run/../etc", "/run/./x", "/.."}) {
    auto r = decode_request(encode_request(
        Request{8, CreateReq{"m3", json{{"process", sample_process()}}, false, bad}}));
    ASSERT_FALSE(r) << bad;
    EXPECT_NE(r.error().message.find("rootfs"), std::string::npos) << r.error().message;
  }
  auto slash = decode_request(R"({"id":9,"op":"ps","container_id":"a/b"})");
  ASSERT_FALSE(slash);
  EXPECT_NE(slash.error().message.find("container_id"), std::string::npos);
}

TEST(Request, RejectsInvalidRequestsAndStillReportsTheId) {
  struct Case {
    const char* text;
    const char* expect;
  } cases[] = {
      {R"({"id":7,"op":"fly"})", "unknown op"},
      {R"({"id":7,"op":"signal","process_id":"init","signal":0})", "signal: must be 1..64"},
      {R"({"id":7,"op":"signal","process_id":"init","signal":65})", "signal"},
      {R"({"id":7,"op":"signal","signal":9})", "process_id: missing"},
      {R"({"id":7,"op":"exec","process_id":"init","process":{}})", "reserved"},
      {R"({"id":7,"op":"exec","process_id":"a/b","process":{}})", "invalid character"},
      {R"({"id":7,"op":"exec","process_id":"x","process":{"args":["a"],"cwd":"x"}})", "cwd"},
      {R"({"id":7,"op":"create","container_id":"c","config":{}})", "config.process: missing"},
      {R"({"id":7,"op":"resize","process_id":"x","rows":1,"cols":-3})", "cols"},
      {R"({"id":7,"op":"wait","process_id":""})", "must not be empty"},
      {R"({"id":7,"op":"update"})", "resources: expected object"},
      {R"({"id":7,"op":"update","resources":[1]})", "resources: expected object"},
  };
  for (const auto& c : cases) {
    uint64_t id = 0;
    auto r = decode_request(c.text, &id);
    ASSERT_FALSE(r) << c.text;
    EXPECT_EQ(id, 7u) << c.text;
    EXPECT_NE(r.error().message.find(c.expect), std::string::npos)
        << c.text << " -> " << r.error().message;
  }
  EXPECT_FALSE(decode_request(R"({"op":"ps"})"));
  EXPECT_FALSE(decode_request(R"({"id":"1","op":"ps"})"));
}

TEST(Response, RoundTripsOkAndError) {
  Response ok;
  ok.id = 3;
  ok.ok = true;
  ok.result = to_json(ProcessInfo{4, 1234});
  auto b = decode_response(encode_response(ok));
  ASSERT_TRUE(b);
  EXPECT_TRUE(b->ok);
  auto info = process_info_from_json(b->result);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->handle, 4u);
  EXPECT_EQ(info->pid, 1234);

  Response err;
  err.id = 4;
  err.error = "exec /nope: No such file or directory";
  err.err = 2;
  auto e = decode_response(encode_response(err));
  ASSERT_TRUE(e);
  EXPECT_FALSE(e->ok);
  EXPECT_EQ(e->error, err.error);
  EXPECT_EQ(e->err, 2);
  EXPECT_FALSE(decode_response(R"({"id":1,"ok":true,"result":[1]})"));
  EXPECT_FALSE(decode_response(R"({"id":1,"ok":false,"error":"x","errno":99999})"));
}

TEST(ExitStatus, FromWaitStatusAndHostCode) {
  pid_t pid = fork();
  if (pid == 0) _exit(3);
  int ws;
  ASSERT_EQ(waitpid(pid, &ws, 0), pid);
  ExitStatus s = exit_status_from_wait(ws);
  EXPECT_FALSE(s.signaled);
  EXPECT_EQ(s.code, 3);
  EXPECT_EQ(s.host_code(), 3);

  pid = fork();
  if (pid == 0) {
    pause();
    _exit(0);
  }
  kill(pid, SIGTERM);
  ASSERT_EQ(waitpid(pid, &ws, 0), pid);
  s = exit_status_from_wait(ws);
  EXPECT_TRUE(s.signaled);
  EXPECT_EQ(s.signal, SIGTERM);
  EXPECT_EQ(s.host_code(), 143);
}

TEST(ExitEvent, RoundTripsAndValidates) {
  ExitEvent e{"exec-1", 9, ExitStatus{true, 0, 9}};
  auto back = decode_event(encode_exit_event(e));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->process_id, "exec-1");
  EXPECT_EQ(back->handle, 9u);
  EXPECT_EQ(back->status, e.status);
  EXPECT_FALSE(decode_event(R"({"event":"exit","process_id":"a","handle":1,"status":{}})"));
  EXPECT_FALSE(decode_event(
      R"({"event":"exit","process_id":"a","handle":1,"status":{"code":1,"signal":2}})"));
  EXPECT_FALSE(
      decode_event(R"({"event":"exit","process_id":"a","handle":1,"status":{"code":256}})"));
  EXPECT_FALSE(decode_event(R"({"event":"boom"})"));
}

// Hostile input: random bytes and mutations of valid messages never crash a
// decoder (run under ASan/UBSan in CI) and every accepted message re-encodes.
TEST(Decoders, SurviveRandomAndMutatedInput) {
  std::mt19937 rng(12345);
  std::vector<std::string> seeds = {
      encode_request(Request{1, CreateReq{"c", json{{"process", sample_process()}}, true}}),
      encode_request(Request{2, SignalReq{"init", 9, false}}),
      encode_request(Request{3, ResizeReq{"p", 1, 2}}),
      encode_hello(Hello{}),
      encode_exit_event(ExitEvent{"init", 1, ExitStatus{false, 3, 0}}),
      encode_data(DataMsg{1, Stream::kStdin, "abc"}),
      encode_credit(CreditMsg{1, 2}),
  };
  size_t accepted = 0;
  for (int i = 0; i < 5000; ++i) {
    std::string in;
    if (i % 3 == 0) {
      in.resize(rng() % 64);
      for (char& c : in) c = static_cast<char>(rng());
    } else {
      in = seeds[rng() % seeds.size()];
      for (int k = 0, n = 1 + static_cast<int>(rng() % 4); k < n && !in.empty(); ++k)
        in[rng() % in.size()] = static_cast<char>(rng());
      if (rng() % 4 == 0) in.resize(rng() % (in.size() + 1));
    }
    if (auto r = decode_request(in); r) {
      ++accepted;
      EXPECT_TRUE(decode_request(encode_request(*r)));
    }
    (void)decode_hello(in);
    (void)decode_event(in);
    (void)decode_response(in);
    if (auto d = decode_data(in); d) {
      EXPECT_EQ(encode_data(*d), in);
    }
    (void)decode_credit(in);
    FrameDecoder fd;
    fd.feed(in.data(), in.size());
    for (int k = 0; k < 4; ++k) {
      auto f = fd.next();
      if (!f || !*f) break;
    }
  }
  EXPECT_GT(accepted, 0u);  // the mutations do not only produce garbage
}

}  // namespace
}  // namespace runvm::agent
