// Owners for libnl-3 objects (runtime/net on the host, guest-init in the guest), so
// every early return frees what it allocated. Header-only: only code that uses
// libnl includes it, and links libnl-route-3 itself.
#pragma once

#include <netlink/cache.h>
#include <netlink/netlink.h>
#include <netlink/object.h>
#include <netlink/socket.h>

#include <memory>
#include <string>

#include "base/result.h"

namespace runvm::nl {

struct SockFree {
  void operator()(nl_sock* s) const { nl_socket_free(s); }
};
struct ObjPut {
  void operator()(void* o) const { nl_object_put(static_cast<nl_object*>(o)); }
};
struct AddrPut {
  void operator()(nl_addr* a) const { nl_addr_put(a); }
};
struct CacheFree {
  void operator()(nl_cache* c) const { nl_cache_free(c); }
};
using Sock = std::unique_ptr<nl_sock, SockFree>;
using Addr = std::unique_ptr<nl_addr, AddrPut>;
using Cache = std::unique_ptr<nl_cache, CacheFree>;
template <typename T>
using Obj = std::unique_ptr<T, ObjPut>;

// libnl returns negative NLE_* codes; the message names the step that failed.
inline Error error(const std::string& what, int nle) {
  return Error(what + ": " + nl_geterror(nle), EIO);
}

// A socket connected to NETLINK_ROUTE in the caller's network namespace.
inline Result<Sock> connect_route() {
  Sock sk(nl_socket_alloc());
  if (!sk) return Error("netlink: out of memory", ENOMEM);
  if (int e = nl_connect(sk.get(), NETLINK_ROUTE); e < 0) return error("netlink connect", e);
  return sk;
}

inline Result<Addr> parse_addr(const std::string& s, int family, const std::string& what) {
  nl_addr* a = nullptr;
  if (int e = nl_addr_parse(s.c_str(), family, &a); e < 0) return error(what + " " + s, e);
  return Addr(a);
}

}  // namespace runvm::nl
