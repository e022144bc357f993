// One netlink request/reply exchange over libmnl, shared by the rtnetlink (links, addresses) and
// generic netlink (netdev features) callers. Returns 0 or a negative errno; nothing throws.
#pragma once

#include <libmnl/libmnl.h>

#include <memory>

namespace hvnet::hostnet::netlink {

struct SocketCloser {
  void operator()(mnl_socket* s) const noexcept { mnl_socket_close(s); }
};
using Socket = std::unique_ptr<mnl_socket, SocketCloser>;

// A socket on `bus` (NETLINK_ROUTE, NETLINK_GENERIC), bound; null on failure.
Socket open(int bus) noexcept;
// Sends `nlh` (its sequence number set here) and runs the replies through `cb` until the kernel
// says done or acknowledges.
int transact(mnl_socket* nl, nlmsghdr* nlh, mnl_cb_t cb = nullptr, void* data = nullptr) noexcept;

}  // namespace hvnet::hostnet::netlink
