#include "io/tap_port.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <sched.h>
#include <spdlog/spdlog.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "hostnet/link.h"
#include "io/carrier_keeper.h"
#include "io/egress_frame.h"
#include "packet/mac.h"

namespace hvnet {

namespace {

std::atomic<bool> g_keep_devices{false};

// The index of the device called `name` in this thread's network namespace, 0 if there is none
// (a socket made now lives in the namespace the thread is in; sysfs would show the mount's).
int ifindex_here(const std::string& name) {
  int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) return 0;
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
  int index = ioctl(s, SIOCGIFINDEX, &ifr) == 0 ? ifr.ifr_ifindex : 0;
  ::close(s);
  return index;
}

bool link_here(const std::string& name) {
  return ifindex_here(name) != 0;
}

// The TAP's netns: the current one if the device is here, else the named namespace (/run/netns)
// that holds a device of that name; -1 when it is nowhere (a new device is made here).
int netns_holding(const std::string& name) {
  if (link_here(name)) return -1;
  DIR* d = opendir("/run/netns");
  if (!d) return -1;
  int here = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  int found = -1;
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] == '.' || here < 0) continue;
    int ns = ::open(("/run/netns/" + std::string(e->d_name)).c_str(), O_RDONLY | O_CLOEXEC);
    if (ns < 0) continue;
    bool has = setns(ns, CLONE_NEWNET) == 0 && link_here(name);
    (void)setns(here, CLONE_NEWNET);
    if (has) {
      found = ns;
      break;
    }
    ::close(ns);
  }
  closedir(d);
  if (here >= 0) ::close(here);
  return found;
}

// Runs `fn` with this thread in network namespace `ns` (-1: where it is), then comes back.
template <typename F>
auto in_netns(int ns, F&& fn) {
  if (ns < 0) return fn();
  int here = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (here < 0 || setns(ns, CLONE_NEWNET) != 0) {
    if (here >= 0) ::close(here);
    return fn();
  }
  auto r = fn();
  (void)setns(here, CLONE_NEWNET);
  ::close(here);
  return r;
}

// The keeper's name for the device `name` of this thread's namespace: "<netns inode>:<ifindex>".
std::string keeper_key(const std::string& name) {
  struct stat st {};
  const int index = ifindex_here(name);
  if (index == 0 || ::stat("/proc/thread-self/ns/net", &st) != 0) return "";
  return std::to_string(st.st_ino) + ":" + std::to_string(index);
}

// Opens a second queue of the multi-queue TAP `name`, detaches it and gives it to the keeper, so
// the device keeps its carrier while this process is not attached. Returns the keeper's key.
std::string hand_spare_queue(CarrierKeeper& keeper, const std::string& name, short flags) {
  int fd = ::open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return "";
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
  ifr.ifr_flags = flags;
  std::string key;
  if (ioctl(fd, TUNSETIFF, &ifr) == 0) {
    ifreq q{};
    q.ifr_flags = IFF_DETACH_QUEUE;
    if (ioctl(fd, TUNSETQUEUE, &q) == 0) key = keeper_key(name);
    if (!key.empty() && !keeper.hold(fd, key)) key.clear();
  }
  if (key.empty())
    spdlog::warn("{}: no carrier keeper (its link drops while hvnetd is away)", name);
  ::close(fd);
  return key;
}

}  // namespace

void TapPort::keep_devices_on_close(bool keep) noexcept {
  g_keep_devices = keep;
}

std::unique_ptr<TapPort> TapPort::open(const std::string& name, PortKind kind, unsigned mtu,
                                       const std::string& mac, std::string* error) {
  if (name.empty() || name.size() >= IFNAMSIZ) {
    *error = "invalid interface name for " + name;
    return nullptr;
  }
  // A VIF's TAP may have been moved into the VM's namespace; a host's internal port never leaves
  // (and another hvnetd on this kernel may have one of the same name in its own namespace).
  const int ns = kind == PortKind::kTap ? netns_holding(name) : -1;
  auto port = in_netns(ns, [&] { return open_here(name, kind, mtu, mac, error); });
  if (ns >= 0) {
    if (port) spdlog::info("re-attached to {} in a VM's network namespace", name);
    ::close(ns);
  }
  return port;
}

std::unique_ptr<TapPort> TapPort::open_here(const std::string& name, PortKind kind, unsigned mtu,
                                            const std::string& mac, std::string* error) {
  auto fail = [&](const char* what) -> std::unique_ptr<TapPort> {
    *error = std::string(what) + " for " + name + ": " + std::strerror(errno);
    return nullptr;
  };
  int fd = ::open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return fail("open /dev/net/tun");
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
  // A VIF's TAP is multi-queue when a carrier keeper runs (see io/carrier_keeper.h). A device
  // made single-queue before stays so: the flag must match the device's.
  CarrierKeeper* keeper = kind == PortKind::kTap ? CarrierKeeper::installed() : nullptr;
  short flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | (keeper ? IFF_MULTI_QUEUE : 0);
  ifr.ifr_flags = flags;
  int rc = ioctl(fd, TUNSETIFF, &ifr);
  if (rc < 0 && keeper && errno == EINVAL) {
    flags &= ~IFF_MULTI_QUEUE;
    ifr.ifr_flags = flags;
    rc = ioctl(fd, TUNSETIFF, &ifr);
  }
  if (rc < 0) {
    auto r = fail("TUNSETIFF");
    ::close(fd);
    return r;
  }
  int hdr_size = sizeof(VnetHdr);
  unsigned offloads = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN;
  if (ioctl(fd, TUNSETVNETHDRSZ, &hdr_size) < 0 || ioctl(fd, TUNSETOFFLOAD, offloads) < 0 ||
      ioctl(fd, TUNSETPERSIST, 1) < 0) {
    auto r = fail("TUN setup");
    ::close(fd);
    return r;
  }
  std::unique_ptr<TapPort> port(new TapPort(name, kind, fd));
  if (flags & IFF_MULTI_QUEUE) port->keeper_key_ = hand_spare_queue(*keeper, name, flags);
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

TapPort::TapPort(std::string name, PortKind kind, int fd) : Port(std::move(name), kind), fd_(fd) {
  ring_ok_ = !std::getenv("HVNET_NO_IO_URING") && io_uring_queue_init(kBatchSize, &ring_, 0) == 0;
  if (ring_ok_ && io_uring_queue_init(kBatchSize, &tx_ring_, 0) != 0) {
    io_uring_queue_exit(&ring_);
    ring_ok_ = false;
  }
  // (No registered file: a registration keeps the TAP alive until the ring's deferred teardown,
  // so a VIF unplugged and plugged again would find its name still taken.)
}

TapPort::~TapPort() {
  if (ring_ok_) {
    io_uring_queue_exit(&ring_);
    io_uring_queue_exit(&tx_ring_);
  }
  if (!g_keep_devices) {
    // Unplugged: the keeper lets go of its queue, and the last close removes the device.
    if (CarrierKeeper* k = CarrierKeeper::installed(); k && !keeper_key_.empty())
      (void)k->release(keeper_key_);
    (void)ioctl(fd_, TUNSETPERSIST, 0);
  }
  ::close(fd_);
}

std::string TapPort::backend() const {
  return ring_ok_ ? "tap-io_uring" : "tap";
}

uint32_t TapPort::rx_burst(PacketPool& pool, PacketBatch& batch) noexcept {
  return ring_ok_ ? rx_ring(pool, batch) : rx_each(pool, batch);
}

uint32_t TapPort::tx_burst(const TxItem* items, uint32_t n) noexcept {
  return ring_ok_ ? tx_ring(items, n) : tx_each(items, n);
}

uint32_t TapPort::rx_ring(PacketPool& pool, PacketBatch& batch) noexcept {
  Packet* pkts[kBatchSize];
  iovec iovs[kBatchSize][2];
  uint32_t room = batch.room();
  uint32_t want = pool.alloc(pkts, rx_reads_ < room ? rx_reads_ : room);
  if (want == 0) return 0;
  for (uint32_t i = 0; i < want; ++i) {
    io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
    iovs[i][0] = {&pkts[i]->vnet, sizeof(VnetHdr)};
    iovs[i][1] = {pkts[i]->data, kFrameCapacity};
    io_uring_prep_readv(sqe, fd_, iovs[i], 2, -1);
    // Without RWF_NOWAIT io_uring would park a read on an empty TAP until a frame arrives,
    // taking that frame into a buffer already given back to the pool.
    sqe->rw_flags = RWF_NOWAIT;
    io_uring_sqe_set_data64(sqe, i);
  }
  int32_t res[kBatchSize];
  run_ring(ring_, want, res);
  uint32_t got = 0;
  for (uint32_t i = 0; i < want; ++i) {
    Packet* p = pkts[i];
    if (res[i] < int32_t(sizeof(VnetHdr))) {  // EAGAIN (no frame), or a read shorter than that
      if (res[i] >= 0) PortStats::bump(stats().rx_dropped);
      pool.free(p);
      continue;
    }
    p->len = uint32_t(res[i]) - uint32_t(sizeof(VnetHdr));
    batch.push(p);
    ++got;
  }
  rx_reads_ = got == want ? (want * 2 < kBatchSize ? want * 2 : kBatchSize) : got + 1;
  return got;
}

uint32_t TapPort::tx_ring(const TxItem* items, uint32_t n) noexcept {
  return send_in_batches(items, n, /*pad_to=*/0, [this](EgressFrame* frames, uint32_t built) {
    for (uint32_t i = 0; i < built; ++i) {
      io_uring_sqe* sqe = io_uring_get_sqe(&tx_ring_);
      io_uring_prep_writev(sqe, fd_, frames[i].iov, unsigned(frames[i].iov_count), -1);
      sqe->rw_flags = RWF_NOWAIT;
      io_uring_sqe_set_data64(sqe, i);
    }
    int32_t res[kBatchSize];
    run_ring(tx_ring_, built, res);  // waits for all: the scatter lists live on the caller's stack
    uint32_t sent = 0;
    for (uint32_t i = 0; i < built; ++i) sent += res[i] >= 0;
    return sent;
  });
}

void TapPort::run_ring(io_uring& ring, uint32_t n, int32_t* res) noexcept {
  io_uring_submit_and_wait(&ring, n);
  for (uint32_t i = 0; i < n; ++i) res[i] = -EAGAIN;  // (every request completes in the call)
  io_uring_cqe* cqe;
  for (uint32_t seen = 0; seen < n && io_uring_peek_cqe(&ring, &cqe) == 0; ++seen) {
    res[cqe->user_data] = cqe->res;
    io_uring_cqe_seen(&ring, cqe);
  }
}

uint32_t TapPort::rx_each(PacketPool& pool, PacketBatch& batch) noexcept {
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

uint32_t TapPort::tx_each(const TxItem* items, uint32_t n) noexcept {
  return send_in_batches(items, n, /*pad_to=*/0, [this](EgressFrame* frames, uint32_t built) {
    uint32_t sent = 0;
    for (uint32_t i = 0; i < built; ++i)
      sent += ::writev(fd_, frames[i].iov, frames[i].iov_count) >= 0;
    return sent;
  });
}

}  // namespace hvnet
