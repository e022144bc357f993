#include "hostnet/xdp_features.h"

#include <libmnl/libmnl.h>
#include <linux/ethtool.h>
#include <linux/genetlink.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <ctime>
#include <memory>

#include "hostnet/link.h"

namespace hvnet::hostnet {

namespace {

// The netdev family's numbers (include/uapi/linux/netdev.h; Debian 12's headers predate it).
constexpr char kNetdevFamily[] = "netdev";
constexpr uint8_t kNetdevCmdDevGet = 1;
constexpr uint16_t kNetdevAttrIfindex = 1;
constexpr uint16_t kNetdevAttrXdpFeatures = 3;
constexpr uint64_t kXdpActBasic = 1u << 0;
constexpr uint64_t kXdpActXskZerocopy = 1u << 3;

struct SocketCloser {
  void operator()(mnl_socket* s) const noexcept { mnl_socket_close(s); }
};
using Socket = std::unique_ptr<mnl_socket, SocketCloser>;

// One request, its reply run through `cb`. Returns 0 or a negative errno.
int transact(mnl_socket* nl, nlmsghdr* nlh, mnl_cb_t cb, void* data) {
  static unsigned seq = unsigned(time(nullptr));
  nlh->nlmsg_seq = ++seq;
  if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) return -errno;
  char buf[MNL_SOCKET_BUFFER_SIZE];
  for (;;) {
    ssize_t n = mnl_socket_recvfrom(nl, buf, sizeof buf);
    if (n < 0) return -errno;
    int rc = mnl_cb_run(buf, size_t(n), nlh->nlmsg_seq, mnl_socket_get_portid(nl), cb, data);
    if (rc < 0) return -errno;
    if (rc == MNL_CB_STOP) return 0;
  }
}

nlmsghdr* genl_request(char* buf, uint16_t type, uint8_t cmd) {
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf);
  nlh->nlmsg_type = type;
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
  auto* g = static_cast<genlmsghdr*>(mnl_nlmsg_put_extra_header(nlh, sizeof(genlmsghdr)));
  g->cmd = cmd;
  g->version = 1;
  return nlh;
}

// Calls fn(type, attr) for each top-level attribute of a generic netlink message.
template <typename Fn>
void each_attr(const nlmsghdr* nlh, Fn&& fn) {
  const char* at = static_cast<const char*>(mnl_nlmsg_get_payload_offset(nlh, sizeof(genlmsghdr)));
  const char* tail = static_cast<const char*>(mnl_nlmsg_get_payload_tail(nlh));
  auto* attr = reinterpret_cast<const nlattr*>(at);
  while (mnl_attr_ok(attr, int(tail - reinterpret_cast<const char*>(attr)))) {
    fn(mnl_attr_get_type(attr), attr);
    attr = mnl_attr_next(attr);
  }
}

int family_id_cb(const nlmsghdr* nlh, void* data) {
  each_attr(nlh, [&](uint16_t type, const nlattr* a) {
    if (type == CTRL_ATTR_FAMILY_ID) *static_cast<uint16_t*>(data) = mnl_attr_get_u16(a);
  });
  return MNL_CB_OK;
}

int features_cb(const nlmsghdr* nlh, void* data) {
  each_attr(nlh, [&](uint16_t type, const nlattr* a) {
    if (type == kNetdevAttrXdpFeatures) *static_cast<uint64_t*>(data) = mnl_attr_get_u64(a);
  });
  return MNL_CB_OK;
}

}  // namespace

std::optional<XdpFeatures> xdp_features(const std::string& dev) noexcept {
  const int ifindex = if_index(dev);
  if (ifindex == 0) return std::nullopt;
  Socket nl(mnl_socket_open(NETLINK_GENERIC));
  if (!nl || mnl_socket_bind(nl.get(), 0, MNL_SOCKET_AUTOPID) < 0) return std::nullopt;
  char buf[MNL_SOCKET_BUFFER_SIZE];
  nlmsghdr* req = genl_request(buf, GENL_ID_CTRL, CTRL_CMD_GETFAMILY);
  mnl_attr_put_strz(req, CTRL_ATTR_FAMILY_NAME, kNetdevFamily);
  uint16_t family = 0;
  if (transact(nl.get(), req, family_id_cb, &family) < 0 || family == 0) return std::nullopt;
  req = genl_request(buf, family, kNetdevCmdDevGet);
  mnl_attr_put_u32(req, kNetdevAttrIfindex, uint32_t(ifindex));
  uint64_t acts = 0;
  if (transact(nl.get(), req, features_cb, &acts) < 0) return std::nullopt;
  return XdpFeatures{(acts & kXdpActBasic) != 0, (acts & kXdpActXskZerocopy) != 0};
}

std::string driver_name(const std::string& dev) {
  int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) return "";
  ethtool_drvinfo info{};
  info.cmd = ETHTOOL_GDRVINFO;
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, dev.c_str(), IFNAMSIZ - 1);
  ifr.ifr_data = reinterpret_cast<char*>(&info);
  const bool ok = ioctl(s, SIOCETHTOOL, &ifr) == 0;
  ::close(s);
  return ok ? std::string(info.driver, strnlen(info.driver, sizeof info.driver)) : "";
}

}  // namespace hvnet::hostnet
