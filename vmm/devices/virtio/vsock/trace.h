// Packet-level tracing of the vsock device to stderr, compiled in only when
// RUNVM_VSOCK_TRACE is defined (debugging a guest driver interaction).
#pragma once

#include <cstdio>

#ifdef RUNVM_VSOCK_TRACE
#define VSOCK_TRACE(...) std::fprintf(stderr, "vsock: " __VA_ARGS__)
#else
#define VSOCK_TRACE(...) \
  do {                   \
  } while (0)
#endif
