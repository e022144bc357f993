#include "hostnet/link.h"

#include <libmnl/libmnl.h>
#include <linux/ethtool.h>
#include <linux/rtnetlink.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "hostnet/netlink.h"

namespace hvnet::hostnet {

namespace {

// Sends one RTM_NEWLINK request built by `fill` and waits for the kernel's acknowledgement.
template <typename Fill>
int link_request(const std::string& name, Fill fill) noexcept {
  unsigned idx = if_nametoindex(name.c_str());
  if (idx == 0) return -ENODEV;
  netlink::Socket nl = netlink::open(NETLINK_ROUTE);
  if (!nl) return -errno;

  alignas(nlmsghdr) char buf[MNL_SOCKET_BUFFER_SIZE];
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf);
  nlh->nlmsg_type = RTM_NEWLINK;
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
  auto* ifm = static_cast<ifinfomsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifinfomsg)));
  ifm->ifi_family = AF_UNSPEC;
  ifm->ifi_index = int(idx);
  fill(nlh, ifm);
  return netlink::transact(nl.get(), nlh);
}

}  // namespace

int if_index(const std::string& name) noexcept {
  return int(if_nametoindex(name.c_str()));
}

int set_link_up(const std::string& name, bool up) noexcept {
  return link_request(name, [up](nlmsghdr*, ifinfomsg* ifm) {
    ifm->ifi_change = IFF_UP;
    ifm->ifi_flags = up ? IFF_UP : 0;
  });
}

int set_mtu(const std::string& name, unsigned mtu) noexcept {
  return link_request(name,
                      [mtu](nlmsghdr* nlh, ifinfomsg*) { mnl_attr_put_u32(nlh, IFLA_MTU, mtu); });
}

int set_mac(const std::string& name, const uint8_t mac[6]) noexcept {
  return link_request(
      name, [mac](nlmsghdr* nlh, ifinfomsg*) { mnl_attr_put(nlh, IFLA_ADDRESS, 6, mac); });
}

std::string errno_text(int negative_errno) {
  return std::strerror(-negative_errno);
}

std::string driver_name(const std::string& dev) {
  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return "";
  ethtool_drvinfo info{};
  info.cmd = ETHTOOL_GDRVINFO;
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, dev.c_str(), IFNAMSIZ - 1);
  ifr.ifr_data = reinterpret_cast<char*>(&info);
  const int rc = ioctl(fd, SIOCETHTOOL, &ifr);
  ::close(fd);
  return rc == 0 ? std::string(info.driver, strnlen(info.driver, sizeof info.driver)) : "";
}

void write_sysctl(const std::string& path, const char* value) {
  std::ofstream(path) << value;
}

}  // namespace hvnet::hostnet
