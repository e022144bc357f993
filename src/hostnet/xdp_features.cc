#include "hostnet/xdp_features.h"

#include <libmnl/libmnl.h>
#include <linux/genetlink.h>

#include "hostnet/link.h"
#include "hostnet/netlink.h"

namespace hvnet::hostnet {

namespace {

// The netdev family's numbers (include/uapi/linux/netdev.h; Debian 12's headers predate it).
constexpr char kNetdevFamily[] = "netdev";
constexpr uint8_t kNetdevCmdDevGet = 1;
constexpr uint16_t kNetdevAttrIfindex = 1;
constexpr uint16_t kNetdevAttrXdpFeatures = 3;
constexpr uint64_t kXdpActXskZerocopy = 1u << 3;

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
  netlink::Socket nl = netlink::open(NETLINK_GENERIC);
  if (!nl) return std::nullopt;
  char buf[MNL_SOCKET_BUFFER_SIZE];
  nlmsghdr* req = genl_request(buf, GENL_ID_CTRL, CTRL_CMD_GETFAMILY);
  mnl_attr_put_strz(req, CTRL_ATTR_FAMILY_NAME, kNetdevFamily);
  uint16_t family = 0;
  if (netlink::transact(nl.get(), req, family_id_cb, &family) < 0 || family == 0)
    return std::nullopt;
  req = genl_request(buf, family, kNetdevCmdDevGet);
  mnl_attr_put_u32(req, kNetdevAttrIfindex, uint32_t(ifindex));
  uint64_t acts = 0;
  if (netlink::transact(nl.get(), req, features_cb, &acts) < 0) return std::nullopt;
  return XdpFeatures{(acts & kXdpActXskZerocopy) != 0};
}

}  // namespace hvnet::hostnet
