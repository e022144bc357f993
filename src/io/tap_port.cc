#include "io/tap_port.h"

#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "hostnet/link.h"
#include "io/egress_frame.h"
#include "packet/mac.h"

namespace hvnet {

std::unique_ptr<TapPort> TapPort::open(const std::string& name, PortKind kind, unsigned mtu,
                                       const std::string& mac, std::string* error) {
  auto fail = [&](const char* what) -> std::unique_ptr<TapPort> {
    *error = std::string(what) + " for " + name + ": " + std::strerror(errno);
    return nullptr;
  };
  if (name.empty() || name.size() >= IFNAMSIZ) {
    errno = EINVAL;
    return fail("invalid interface name");
  }
  int fd = ::open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return fail("open /dev/net/tun");
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
  if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
    auto r = fail("TUNSETIFF");
    ::close(fd);
    return r;
  }
  int hdr_size = sizeof(VnetHdr);
  unsigned offloads = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN;
  if (ioctl(fd, TUNSETVNETHDRSZ, &hdr_size) < 0 || ioctl(fd, TUNSETOFFLOAD, offloads) < 0) {
    auto r = fail("TUN offload setup");
    ::close(fd);
    return r;
  }
  std::unique_ptr<TapPort> port(new TapPort(name, kind, fd));
  if (mtu != 0) {
    if (int rc = hostnet::set_mtu(name, mtu); rc < 0) {
      *error = "set MTU " + std::to_string(mtu) + " on " + name + ": " + hostnet::errno_text(rc);
      return nullptr;
    }
  }
  if (auto m = MacAddr::parse(mac)) {
    if (int rc = hostnet::set_mac(name, m->b.data()); rc < 0) {
      *error = "set MAC " + mac + " on " + name + ": " + hostnet::errno_text(rc);
      return nullptr;
    }
  }
  if (int rc = hostnet::set_link_up(name, true); rc < 0) {
    *error = "bring up " + name + ": " + hostnet::errno_text(rc);
    return nullptr;
  }
  return port;
}

TapPort::~TapPort() {
  ::close(fd_);
}

uint32_t TapPort::rx_burst(PacketPool& pool, PacketBatch& batch) noexcept {
  uint32_t got = 0;
  while (!batch.full()) {
    Packet* p = pool.alloc_one();
    if (!p) break;
    iovec iov[2] = {{&p->vnet, sizeof(VnetHdr)}, {p->data, kFrameCapacity}};
    ssize_t n = ::readv(fd_, iov, 2);
    if (n < ssize_t(sizeof(VnetHdr))) {
      pool.free(p);
      if (n >= 0) PortStats::bump(stats().rx_dropped);  // a read shorter than the header
      break;
    }
    p->len = uint32_t(n - ssize_t(sizeof(VnetHdr)));
    batch.push(p);
    ++got;
  }
  return got;
}

uint32_t TapPort::tx_burst(const TxItem* items, uint32_t n) noexcept {
  uint32_t sent = 0;
  for (uint32_t i = 0; i < n; ++i) {
    EgressFrame ef;
    if (!ef.build(items[i])) continue;
    if (::writev(fd_, ef.iov, ef.iov_count) >= 0) ++sent;
  }
  return sent;
}

}  // namespace hvnet
