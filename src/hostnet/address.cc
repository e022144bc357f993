#include "hostnet/address.h"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <net/if.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <memory>

#include "hostnet/netlink.h"

namespace hvnet::hostnet {

namespace {

using netlink::Socket;

Socket open_socket() {
  return netlink::open(NETLINK_ROUTE);
}

// One request; an address or route that already exists (or is already gone) is no failure.
int transact(mnl_socket* nl, nlmsghdr* nlh, mnl_cb_t cb = nullptr, void* data = nullptr) {
  const int rc = netlink::transact(nl, nlh, cb, data);
  return rc == -EEXIST || rc == -ESRCH ? 0 : rc;
}

struct Found {
  int ifindex;
  int family;
  std::vector<IpCidr> addrs;
};

int collect_addr(const nlmsghdr* nlh, void* data) {
  auto* f = static_cast<Found*>(data);
  auto* ifa = static_cast<ifaddrmsg*>(mnl_nlmsg_get_payload(nlh));
  if (ifa->ifa_family != f->family || int(ifa->ifa_index) != f->ifindex) return MNL_CB_OK;
  if (ifa->ifa_scope == RT_SCOPE_LINK) return MNL_CB_OK;  // link-local stays
  const auto* attr = reinterpret_cast<const nlattr*>(
      static_cast<const char*>(mnl_nlmsg_get_payload(nlh)) + MNL_ALIGN(sizeof(*ifa)));
  const char* tail = static_cast<const char*>(mnl_nlmsg_get_payload_tail(nlh));
  const int want = f->family == AF_INET ? IFA_LOCAL : IFA_ADDRESS;
  while (mnl_attr_ok(attr, int(tail - reinterpret_cast<const char*>(attr)))) {
    if (mnl_attr_get_type(attr) == want) {
      IpCidr c;
      c.family = f->family;
      c.prefix = ifa->ifa_prefixlen;
      std::memcpy(c.addr.data(), mnl_attr_get_payload(attr), f->family == AF_INET ? 4 : 16);
      f->addrs.push_back(c);
    }
    attr = mnl_attr_next(attr);
  }
  return MNL_CB_OK;
}

int addr_request(mnl_socket* nl, uint16_t type, uint16_t flags, int ifindex, const IpCidr& c) {
  alignas(nlmsghdr) char buf[MNL_SOCKET_BUFFER_SIZE];
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf);
  nlh->nlmsg_type = type;
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
  auto* ifa = static_cast<ifaddrmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifaddrmsg)));
  ifa->ifa_family = uint8_t(c.family);
  ifa->ifa_prefixlen = c.prefix;
  ifa->ifa_index = unsigned(ifindex);
  ifa->ifa_scope = RT_SCOPE_UNIVERSE;
  const size_t len = c.family == AF_INET ? 4 : 16;
  mnl_attr_put(nlh, IFA_LOCAL, len, c.addr.data());
  mnl_attr_put(nlh, IFA_ADDRESS, len, c.addr.data());
  if (c.family == AF_INET6)
    ifa->ifa_flags = IFA_F_NODAD;  // usable at once; duplicates are the admin's
  return transact(nl, nlh);
}

}  // namespace

std::optional<IpCidr> IpCidr::parse(const std::string& s) {
  IpCidr c;
  auto slash = s.find('/');
  const std::string a = s.substr(0, slash);
  if (inet_pton(AF_INET, a.c_str(), c.addr.data()) == 1)
    c.family = AF_INET;
  else if (inet_pton(AF_INET6, a.c_str(), c.addr.data()) == 1)
    c.family = AF_INET6;
  else
    return std::nullopt;
  const int max = c.family == AF_INET ? 32 : 128;
  c.prefix = uint8_t(max);
  if (slash != std::string::npos) {
    const std::string p = s.substr(slash + 1);
    if (p.empty() || p.size() > 3 || p.find_first_not_of("0123456789") != std::string::npos)
      return std::nullopt;
    int n = std::stoi(p);
    if (n > max) return std::nullopt;
    c.prefix = uint8_t(n);
  }
  return c;
}

int set_addresses(const std::string& ifname, int family,
                  const std::vector<IpCidr>& addrs) noexcept {
  int ifindex = int(if_nametoindex(ifname.c_str()));
  if (ifindex == 0) return -ENODEV;
  Socket nl = open_socket();
  if (!nl) return -errno;
  alignas(nlmsghdr) char buf[MNL_SOCKET_BUFFER_SIZE];
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf);
  nlh->nlmsg_type = RTM_GETADDR;
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  auto* gen = static_cast<rtgenmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(rtgenmsg)));
  gen->rtgen_family = uint8_t(family);
  Found found{ifindex, family, {}};
  if (int rc = transact(nl.get(), nlh, collect_addr, &found); rc < 0) return rc;
  // Remove what is no longer wanted first: deleting a primary address would take the secondaries
  // added after it along (the kernel's default), so new addresses go in afterwards.
  for (const auto& old : found.addrs) {
    bool keep = false;
    for (const auto& c : addrs) keep |= c == old;
    if (!keep)
      if (int rc = addr_request(nl.get(), RTM_DELADDR, 0, ifindex, old); rc < 0) return rc;
  }
  for (const auto& c : addrs)
    if (int rc = addr_request(nl.get(), RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE, ifindex, c);
        rc < 0)
      return rc;
  return 0;
}

namespace {
int route_request(int family, const std::string& ifname, const IpCidr* gateway) noexcept {
  Socket nl = open_socket();
  if (!nl) return -errno;
  alignas(nlmsghdr) char buf[MNL_SOCKET_BUFFER_SIZE];
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf);
  nlh->nlmsg_type = gateway ? RTM_NEWROUTE : RTM_DELROUTE;
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | (gateway ? NLM_F_CREATE | NLM_F_REPLACE : 0);
  auto* rtm = static_cast<rtmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(rtmsg)));
  rtm->rtm_family = uint8_t(family);
  rtm->rtm_dst_len = 0;
  rtm->rtm_table = RT_TABLE_MAIN;
  rtm->rtm_protocol = RTPROT_STATIC;
  rtm->rtm_scope = RT_SCOPE_UNIVERSE;
  rtm->rtm_type = RTN_UNICAST;
  if (gateway) {
    int ifindex = int(if_nametoindex(ifname.c_str()));
    if (ifindex == 0) return -ENODEV;
    mnl_attr_put(nlh, RTA_GATEWAY, family == AF_INET ? 4 : 16, gateway->addr.data());
    mnl_attr_put_u32(nlh, RTA_OIF, uint32_t(ifindex));
  }
  return transact(nl.get(), nlh);
}
}  // namespace

int set_default_route(const std::string& ifname, const IpCidr& gateway) noexcept {
  return route_request(gateway.family, ifname, &gateway);
}

int clear_default_route(int family) noexcept {
  return route_request(family, "", nullptr);
}

namespace {

struct RouteDump {
  uint8_t protocol;
  std::vector<LinkRoute>* out;
};

int collect_route(const nlmsghdr* nlh, void* data) {
  auto* d = static_cast<RouteDump*>(data);
  auto* rtm = static_cast<rtmsg*>(mnl_nlmsg_get_payload(nlh));
  if (rtm->rtm_family != AF_INET || rtm->rtm_protocol != d->protocol ||
      rtm->rtm_table != RT_TABLE_MAIN)
    return MNL_CB_OK;
  LinkRoute r;
  r.dst.family = AF_INET;
  r.dst.prefix = rtm->rtm_dst_len;
  const auto* attr = reinterpret_cast<const nlattr*>(
      static_cast<const char*>(mnl_nlmsg_get_payload(nlh)) + MNL_ALIGN(sizeof(*rtm)));
  const char* tail = static_cast<const char*>(mnl_nlmsg_get_payload_tail(nlh));
  while (mnl_attr_ok(attr, int(tail - reinterpret_cast<const char*>(attr)))) {
    if (mnl_attr_get_type(attr) == RTA_DST && mnl_attr_get_payload_len(attr) == 4)
      std::memcpy(r.dst.addr.data(), mnl_attr_get_payload(attr), 4);
    if (mnl_attr_get_type(attr) == RTA_OIF) {
      char name[IF_NAMESIZE] = "";
      if (if_indextoname(mnl_attr_get_u32(attr), name)) r.ifname = name;
    }
    attr = mnl_attr_next(attr);
  }
  d->out->push_back(r);
  return MNL_CB_OK;
}

int link_route_request(mnl_socket* nl, bool add, uint8_t protocol, const LinkRoute& r) {
  alignas(nlmsghdr) char buf[MNL_SOCKET_BUFFER_SIZE];
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf);
  nlh->nlmsg_type = add ? RTM_NEWROUTE : RTM_DELROUTE;
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | (add ? NLM_F_CREATE | NLM_F_REPLACE : 0);
  auto* rtm = static_cast<rtmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(rtmsg)));
  rtm->rtm_family = AF_INET;
  rtm->rtm_dst_len = r.dst.prefix;
  rtm->rtm_table = RT_TABLE_MAIN;
  rtm->rtm_protocol = protocol;
  rtm->rtm_scope = RT_SCOPE_LINK;
  rtm->rtm_type = RTN_UNICAST;
  mnl_attr_put(nlh, RTA_DST, 4, r.dst.addr.data());
  if (add) {
    const int ifindex = int(if_nametoindex(r.ifname.c_str()));
    if (ifindex == 0) return -ENODEV;
    mnl_attr_put_u32(nlh, RTA_OIF, uint32_t(ifindex));
  }
  return transact(nl, nlh);
}

}  // namespace

int link_routes(uint8_t protocol, std::vector<LinkRoute>* out) noexcept {
  Socket nl = open_socket();
  if (!nl) return -errno;
  alignas(nlmsghdr) char buf[MNL_SOCKET_BUFFER_SIZE];
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf);
  nlh->nlmsg_type = RTM_GETROUTE;
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  auto* rtm = static_cast<rtmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(rtmsg)));
  rtm->rtm_family = AF_INET;
  RouteDump d{protocol, out};
  return transact(nl.get(), nlh, collect_route, &d);
}

int set_link_routes(uint8_t protocol, const std::vector<LinkRoute>& routes) noexcept {
  std::vector<LinkRoute> have;
  if (int rc = link_routes(protocol, &have); rc < 0) return rc;
  Socket nl = open_socket();
  if (!nl) return -errno;
  for (const auto& h : have) {
    bool keep = false;
    for (const auto& r : routes) keep |= r == h;
    if (!keep)
      if (int rc = link_route_request(nl.get(), false, protocol, h); rc < 0) return rc;
  }
  for (const auto& r : routes) {
    bool there = false;
    for (const auto& h : have) there |= r == h;
    if (!there)
      if (int rc = link_route_request(nl.get(), true, protocol, r); rc < 0) return rc;
  }
  return 0;
}

}  // namespace hvnet::hostnet
