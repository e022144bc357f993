#include "hostnet/netlink.h"

#include <cerrno>
#include <ctime>

namespace hvnet::hostnet::netlink {

Socket open(int bus) noexcept {
  Socket nl(mnl_socket_open(bus));
  if (nl && mnl_socket_bind(nl.get(), 0, MNL_SOCKET_AUTOPID) < 0) nl.reset();
  return nl;
}

int transact(mnl_socket* nl, nlmsghdr* nlh, mnl_cb_t cb, void* data) noexcept {
  static unsigned seq = unsigned(time(nullptr));
  nlh->nlmsg_seq = ++seq;
  if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) return -errno;
  alignas(nlmsghdr) char buf[MNL_SOCKET_BUFFER_SIZE];
  for (;;) {
    ssize_t n = mnl_socket_recvfrom(nl, buf, sizeof buf);
    if (n < 0) return -errno;
    int rc = mnl_cb_run(buf, size_t(n), nlh->nlmsg_seq, mnl_socket_get_portid(nl), cb, data);
    if (rc < 0) return -errno;
    if (rc == MNL_CB_STOP) return 0;
  }
}

}  // namespace hvnet::hostnet::netlink
