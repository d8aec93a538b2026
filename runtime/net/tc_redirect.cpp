#include "runtime/net/tc_redirect.h"

#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <netlink/route/act/mirred.h>
#include <netlink/route/action.h>
#include <netlink/route/classifier.h>
#include <netlink/route/cls/u32.h>
#include <netlink/route/qdisc.h>
#include <netlink/route/tc.h>

#include <string>

#include "base/libnl_owners.h"

namespace runvm::runtime::net {

namespace {

constexpr uint32_t kIngressHandle = TC_HANDLE(0xffff, 0);

Status add_ingress(nl_sock* sk, int ifindex) {
  nl::Obj<rtnl_qdisc> q(rtnl_qdisc_alloc());
  if (!q) return Error("tc: out of memory", ENOMEM);
  rtnl_tc_set_ifindex(TC_CAST(q.get()), ifindex);
  rtnl_tc_set_parent(TC_CAST(q.get()), TC_H_INGRESS);
  rtnl_tc_set_handle(TC_CAST(q.get()), kIngressHandle);
  if (int e = rtnl_tc_set_kind(TC_CAST(q.get()), "ingress"); e < 0)
    return nl::error("tc ingress qdisc", e);
  if (int e = rtnl_qdisc_add(sk, q.get(), NLM_F_CREATE | NLM_F_EXCL); e < 0)
    return nl::error("add ingress qdisc on link " + std::to_string(ifindex), e);
  return {};
}

// u32 match-all (key 0/0 at offset 0) on `from`'s ingress, redirect to `to`'s egress.
Status add_filter(nl_sock* sk, int from, int to) {
  nl::Obj<rtnl_cls> cls(rtnl_cls_alloc());
  nl::Obj<rtnl_act> act(rtnl_act_alloc());
  if (!cls || !act) return Error("tc: out of memory", ENOMEM);
  rtnl_tc_set_ifindex(TC_CAST(cls.get()), from);
  rtnl_tc_set_parent(TC_CAST(cls.get()), kIngressHandle);
  if (int e = rtnl_tc_set_kind(TC_CAST(cls.get()), "u32"); e < 0) return nl::error("tc u32", e);
  rtnl_cls_set_prio(cls.get(), 1);
  rtnl_cls_set_protocol(cls.get(), ETH_P_ALL);
  if (int e = rtnl_u32_add_key_uint32(cls.get(), 0, 0, 0, 0); e < 0)
    return nl::error("tc u32 key", e);
  if (int e = rtnl_u32_set_cls_terminal(cls.get()); e < 0) return nl::error("tc u32 terminal", e);
  if (int e = rtnl_tc_set_kind(TC_CAST(act.get()), "mirred"); e < 0)
    return nl::error("tc mirred", e);
  rtnl_mirred_set_action(act.get(), TCA_EGRESS_REDIR);
  rtnl_mirred_set_policy(act.get(), TC_ACT_STOLEN);
  rtnl_mirred_set_ifindex(act.get(), static_cast<uint32_t>(to));
  if (int e = rtnl_u32_add_action(cls.get(), act.get()); e < 0)
    return nl::error("tc u32 action", e);
  if (int e = rtnl_cls_add(sk, cls.get(), NLM_F_CREATE | NLM_F_EXCL); e < 0)
    return nl::error("add redirect filter " + std::to_string(from) + " -> " + std::to_string(to),
                     e);
  return {};
}

Status remove_ingress_on(nl_sock* sk, int ifindex) {
  nl::Obj<rtnl_qdisc> q(rtnl_qdisc_alloc());
  if (!q) return Error("tc: out of memory", ENOMEM);
  rtnl_tc_set_ifindex(TC_CAST(q.get()), ifindex);
  rtnl_tc_set_parent(TC_CAST(q.get()), TC_H_INGRESS);
  rtnl_tc_set_handle(TC_CAST(q.get()), kIngressHandle);
  int e = rtnl_qdisc_delete(sk, q.get());
  if (e < 0 && e != -NLE_OBJ_NOTFOUND && e != -NLE_NODEV && e != -NLE_INVAL)
    return nl::error("remove ingress qdisc of link " + std::to_string(ifindex), e);
  return {};
}

}  // namespace

Status add_redirect(int a, int b) {
  auto sk = nl::connect_route();
  if (!sk) return sk.error();
  Status st = add_ingress(sk->get(), a);
  if (st) st = add_ingress(sk->get(), b);
  if (st) st = add_filter(sk->get(), a, b);
  if (st) st = add_filter(sk->get(), b, a);
  if (!st) {
    (void)remove_ingress_on(sk->get(), a);
    (void)remove_ingress_on(sk->get(), b);
  }
  return st;
}

Status remove_ingress(int ifindex) {
  auto sk = nl::connect_route();
  if (!sk) return sk.error();
  return remove_ingress_on(sk->get(), ifindex);
}

Result<bool> has_ingress(int ifindex) {
  auto sk = nl::connect_route();
  if (!sk) return sk.error();
  nl_cache* raw = nullptr;
  if (int e = rtnl_qdisc_alloc_cache(sk->get(), &raw); e < 0) return nl::error("list qdiscs", e);
  nl::Cache c(raw);
  for (nl_object* o = nl_cache_get_first(c.get()); o; o = nl_cache_get_next(o)) {
    auto* tc = TC_CAST(o);
    if (rtnl_tc_get_ifindex(tc) == ifindex && rtnl_tc_get_parent(tc) == TC_H_INGRESS) return true;
  }
  return false;
}

}  // namespace runvm::runtime::net
