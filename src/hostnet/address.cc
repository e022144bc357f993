#include "hostnet/address.h"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <net/if.h>

#include <cerrno>
#include <ctime>
#include <memory>

namespace hvnet::hostnet {

namespace {

struct SocketCloser {
  void operator()(mnl_socket* s) const noexcept { mnl_socket_close(s); }
};
using Socket = std::unique_ptr<mnl_socket, SocketCloser>;

Socket open_socket() {
  Socket nl(mnl_socket_open(NETLINK_ROUTE));
  if (nl && mnl_socket_bind(nl.get(), 0, MNL_SOCKET_AUTOPID) < 0) nl.reset();
  return nl;
}

// Sends one request and runs the reply through `cb` until the kernel says done/ack.
int transact(mnl_socket* nl, nlmsghdr* nlh, mnl_cb_t cb = nullptr, void* data = nullptr) {
  static unsigned seq = unsigned(time(nullptr));
  nlh->nlmsg_seq = ++seq;
  if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) return -errno;
  char buf[MNL_SOCKET_BUFFER_SIZE];
  for (;;) {
    ssize_t n = mnl_socket_recvfrom(nl, buf, sizeof buf);
    if (n < 0) return -errno;
    int rc = mnl_cb_run(buf, size_t(n), nlh->nlmsg_seq, mnl_socket_get_portid(nl), cb, data);
    if (rc < 0) return errno == EEXIST || errno == ESRCH ? 0 : -errno;
    if (rc == MNL_CB_STOP) return 0;
  }
}

struct Found {
  int ifindex;
  std::vector<Ipv4Cidr> addrs;
};

int collect_addr(const nlmsghdr* nlh, void* data) {
  auto* f = static_cast<Found*>(data);
  auto* ifa = static_cast<ifaddrmsg*>(mnl_nlmsg_get_payload(nlh));
  if (ifa->ifa_family != AF_INET || int(ifa->ifa_index) != f->ifindex) return MNL_CB_OK;
  const auto* attr = reinterpret_cast<const nlattr*>(
      static_cast<const char*>(mnl_nlmsg_get_payload(nlh)) + MNL_ALIGN(sizeof(*ifa)));
  const char* tail = static_cast<const char*>(mnl_nlmsg_get_payload_tail(nlh));
  while (mnl_attr_ok(attr, int(tail - reinterpret_cast<const char*>(attr)))) {
    if (mnl_attr_get_type(attr) == IFA_LOCAL) {
      uint32_t a = *static_cast<const uint32_t*>(mnl_attr_get_payload(attr));
      f->addrs.push_back({ntohl(a), ifa->ifa_prefixlen});
    }
    attr = mnl_attr_next(attr);
  }
  return MNL_CB_OK;
}

int addr_request(mnl_socket* nl, uint16_t type, uint16_t flags, int ifindex, const Ipv4Cidr& c) {
  alignas(nlmsghdr) char buf[MNL_SOCKET_BUFFER_SIZE];
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf);
  nlh->nlmsg_type = type;
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
  auto* ifa = static_cast<ifaddrmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifaddrmsg)));
  ifa->ifa_family = AF_INET;
  ifa->ifa_prefixlen = c.prefix;
  ifa->ifa_index = unsigned(ifindex);
  ifa->ifa_scope = RT_SCOPE_UNIVERSE;
  uint32_t a = htonl(c.addr);
  mnl_attr_put_u32(nlh, IFA_LOCAL, a);
  mnl_attr_put_u32(nlh, IFA_ADDRESS, a);
  if (type == RTM_NEWADDR && c.prefix < 31) {
    uint32_t mask = c.prefix ? ~uint32_t(0) << (32 - c.prefix) : 0;
    mnl_attr_put_u32(nlh, IFA_BROADCAST, htonl(c.addr | ~mask));
  }
  return transact(nl, nlh);
}

}  // namespace

int set_ipv4_addresses(const std::string& ifname, const std::vector<Ipv4Cidr>& addrs) noexcept {
  int ifindex = int(if_nametoindex(ifname.c_str()));
  if (ifindex == 0) return -ENODEV;
  Socket nl = open_socket();
  if (!nl) return -errno;
  // Dump what is there now.
  alignas(nlmsghdr) char buf[MNL_SOCKET_BUFFER_SIZE];
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf);
  nlh->nlmsg_type = RTM_GETADDR;
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  auto* gen = static_cast<rtgenmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(rtgenmsg)));
  gen->rtgen_family = AF_INET;
  Found found{ifindex, {}};
  if (int rc = transact(nl.get(), nlh, collect_addr, &found); rc < 0) return rc;
  // Remove what is no longer wanted first: deleting a primary address would take the secondaries
  // added after it along (the kernel's default), so new addresses go in afterwards.
  for (const auto& old : found.addrs) {
    bool keep = false;
    for (const auto& c : addrs) keep |= c.addr == old.addr && c.prefix == old.prefix;
    if (!keep)
      if (int rc = addr_request(nl.get(), RTM_DELADDR, 0, ifindex, old); rc < 0) return rc;
  }
  for (const auto& c : addrs)
    if (int rc = addr_request(nl.get(), RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE, ifindex, c);
        rc < 0)
      return rc;
  return 0;
}

int set_default_route(const std::string& ifname, uint32_t gateway) noexcept {
  Socket nl = open_socket();
  if (!nl) return -errno;
  alignas(nlmsghdr) char buf[MNL_SOCKET_BUFFER_SIZE];
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf);
  nlh->nlmsg_type = gateway ? RTM_NEWROUTE : RTM_DELROUTE;
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | (gateway ? NLM_F_CREATE | NLM_F_REPLACE : 0);
  auto* rtm = static_cast<rtmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(rtmsg)));
  rtm->rtm_family = AF_INET;
  rtm->rtm_dst_len = 0;
  rtm->rtm_table = RT_TABLE_MAIN;
  rtm->rtm_protocol = RTPROT_STATIC;
  rtm->rtm_scope = RT_SCOPE_UNIVERSE;
  rtm->rtm_type = RTN_UNICAST;
  if (gateway) {
    int ifindex = int(if_nametoindex(ifname.c_str()));
    if (ifindex == 0) return -ENODEV;
    mnl_attr_put_u32(nlh, RTA_GATEWAY, htonl(gateway));
    mnl_attr_put_u32(nlh, RTA_OIF, uint32_t(ifindex));
  }
  return transact(nl.get(), nlh);
}

}  // namespace hvnet::hostnet
