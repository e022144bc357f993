#include "io/xdp_port.h"

#include <arpa/inet.h>
#include <bpf/libbpf.h>
#include <linux/ethtool.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/if_packet.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <spdlog/spdlog.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include <xdp/libxdp.h>
#include <xdp/xsk.h>

#include <cerrno>
#include <cstdarg>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "hostnet/link.h"
#include "io/af_packet_port.h"
#include "io/egress_frame.h"
#include "packet/headers.h"
#include "packet/soft_gro.h"
#include "packet/soft_offload.h"

namespace hvnet {

namespace {

constexpr uint32_t kFrameSize = XSK_UMEM__DEFAULT_FRAME_SIZE;  // one UMEM chunk, 4 KiB
constexpr uint32_t kRingSize = 2048;
constexpr uint32_t kRxFrames = kRingSize;  // kept on the fill ring / in the rx ring
constexpr uint32_t kTxFrames = kRingSize;  // owned by us until the kernel completes them
constexpr uint32_t kUmemFrames = kRxFrames + kTxFrames;

// Failures come back as errors; the libraries' chatter would only confuse operators.
int quiet_libxdp(enum libxdp_print_level, const char*, va_list) {
  return 0;
}
int quiet_libbpf(enum libbpf_print_level, const char*, va_list) {
  return 0;
}

uint32_t rx_queue_count(const std::string& dev) {
  std::error_code ec;
  uint32_t n = 0;
  for (const auto& e : std::filesystem::directory_iterator("/sys/class/net/" + dev + "/queues", ec))
    if (e.path().filename().string().rfind("rx-", 0) == 0) ++n;
  return n == 0 ? 1 : n;
}

// Generic XDP runs after GRO, and a merged super-frame does not fit one UMEM chunk: turn GRO and
// LRO off so frames arrive as they were on the wire. Best effort (not every driver has them).
void disable_receive_merging(const std::string& dev) {
  int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) return;
  auto ethtool = [&](ethtool_value& v) {
    ifreq ifr{};
    std::strncpy(ifr.ifr_name, dev.c_str(), IFNAMSIZ - 1);
    ifr.ifr_data = reinterpret_cast<char*>(&v);
    return ioctl(s, SIOCETHTOOL, &ifr) == 0;
  };
  ethtool_value gro{ETHTOOL_SGRO, 0};
  ethtool(gro);
  ethtool_value flags{ETHTOOL_GFLAGS, 0};
  if (ethtool(flags) && (flags.data & ETH_FLAG_LRO)) {
    flags.cmd = ETHTOOL_SFLAGS;
    flags.data &= ~uint32_t(ETH_FLAG_LRO);
    ethtool(flags);
  }
  ::close(s);
}

}  // namespace

const char* xdp_mode_name(XdpMode m) noexcept {
  return m == XdpMode::kNative ? "native" : "generic";
}

struct XdpPort::Queue {
  uint8_t* area = nullptr;
  xsk_umem* umem = nullptr;
  xsk_socket* xsk = nullptr;
  xsk_ring_prod fill{}, tx{};
  xsk_ring_cons comp{}, rx{};
  uint64_t tx_free[kTxFrames];  // UMEM addresses of transmit chunks we may fill
  uint32_t tx_free_count = 0;
  int fd = -1;

  ~Queue() {
    if (xsk) xsk_socket__delete(xsk);
    if (umem) xsk_umem__delete(umem);
    if (area) munmap(area, size_t(kUmemFrames) * kFrameSize);
  }

  // Returns 0 or a negative errno.
  int open(const std::string& dev, uint32_t queue_id, XdpMode mode, bool zerocopy) {
    void* mem = mmap(nullptr, size_t(kUmemFrames) * kFrameSize, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    if (mem == MAP_FAILED) return -errno;
    area = static_cast<uint8_t*>(mem);
    xsk_umem_config ucfg{};
    ucfg.fill_size = kRingSize;
    ucfg.comp_size = kRingSize;
    ucfg.frame_size = kFrameSize;
    ucfg.frame_headroom = 0;
    if (int rc =
            xsk_umem__create(&umem, area, uint64_t(kUmemFrames) * kFrameSize, &fill, &comp, &ucfg);
        rc != 0)
      return rc < 0 ? rc : -rc;
    xsk_socket_config scfg{};
    scfg.rx_size = kRingSize;
    scfg.tx_size = kRingSize;
    scfg.xdp_flags = mode == XdpMode::kNative ? XDP_FLAGS_DRV_MODE : XDP_FLAGS_SKB_MODE;
    scfg.bind_flags = (zerocopy ? XDP_ZEROCOPY : XDP_COPY) | XDP_USE_NEED_WAKEUP;
    if (int rc = xsk_socket__create(&xsk, dev.c_str(), queue_id, umem, &rx, &tx, &scfg); rc != 0)
      return rc < 0 ? rc : -rc;
    fd = xsk_socket__fd(xsk);
    uint32_t idx = 0;
    if (xsk_ring_prod__reserve(&fill, kRxFrames, &idx) != kRxFrames) return -ENOMEM;
    for (uint32_t i = 0; i < kRxFrames; ++i)
      *xsk_ring_prod__fill_addr(&fill, idx + i) = uint64_t(i) * kFrameSize;
    xsk_ring_prod__submit(&fill, kRxFrames);
    for (uint32_t i = 0; i < kTxFrames; ++i)
      tx_free[tx_free_count++] = uint64_t(kRxFrames + i) * kFrameSize;
    return 0;
  }

  void reclaim() noexcept {
    uint32_t idx = 0;
    uint32_t n = xsk_ring_cons__peek(&comp, kRingSize, &idx);
    for (uint32_t i = 0; i < n; ++i)
      tx_free[tx_free_count++] = *xsk_ring_cons__comp_addr(&comp, idx + i);
    if (n) xsk_ring_cons__release(&comp, n);
  }

  void kick() noexcept {
    if (xsk_ring_prod__needs_wakeup(&tx)) sendto(fd, nullptr, 0, MSG_DONTWAIT, nullptr, 0);
  }
};

XdpPort::XdpPort(std::string name, XdpMode mode, bool zerocopy)
    : Port(std::move(name), PortKind::kXdp), mode_(mode), zerocopy_(zerocopy) {}

uint32_t XdpPort::max_frame() noexcept {
  return kFrameSize - XDP_PACKET_HEADROOM;
}

bool XdpPort::fits_mtu(uint32_t mtu) noexcept {
  return mtu + kEthHdrLen + 2 * kVlanTagLen <= max_frame();
}

std::string XdpPort::backend() const {
  return std::string("af_xdp-") + xdp_mode_name(mode_) + (zerocopy_ ? "-zc" : "");
}

std::unique_ptr<XdpPort> XdpPort::open(const std::string& name, XdpMode mode, bool zerocopy,
                                       std::string* error) {
  libxdp_set_print(quiet_libxdp);
  libbpf_set_print(quiet_libbpf);
  int idx = hostnet::if_index(name);
  if (idx == 0) {
    *error = "no such interface " + name;
    return nullptr;
  }
  // Up first: some drivers only accept an XDP program on a running interface.
  if (int rc = hostnet::set_link_up(name, true); rc < 0) {
    *error = "bring up " + name + ": " + hostnet::errno_text(rc);
    return nullptr;
  }
  if (mode == XdpMode::kGeneric) disable_receive_merging(name);
  std::unique_ptr<XdpPort> port(new XdpPort(name, mode, zerocopy));
  const uint32_t queues = rx_queue_count(name);
  spdlog::debug("{}: {} receive queue(s)", name, queues);
  for (uint32_t q = 0; q < queues; ++q) {
    auto queue = std::make_unique<Queue>();
    int rc = queue->open(name, q, mode, zerocopy);
    if (rc == -EEXIST || rc == -EBUSY) {
      // A program left behind by an earlier run that did not exit cleanly: the PIF is ours.
      if (xdp_multiprog* mp = xdp_multiprog__get_from_ifindex(idx); mp && !libxdp_get_error(mp)) {
        xdp_multiprog__detach(mp);
        xdp_multiprog__close(mp);
      }
      queue = std::make_unique<Queue>();
      rc = queue->open(name, q, mode, zerocopy);
    }
    if (rc < 0) {
      *error = std::string("AF_XDP ") + xdp_mode_name(mode) + (zerocopy ? " zero-copy" : "") +
               " on " + name + " queue " + std::to_string(q) + ": " + hostnet::errno_text(rc);
      return nullptr;
    }
    port->queues_.push_back(std::move(queue));
  }
  // The sending socket also holds the promiscuous membership (AF_XDP sockets cannot).
  port->packet_fd_ = open_packet_tx_socket(idx, true);
  packet_mreq mr{};
  mr.mr_ifindex = idx;
  mr.mr_type = PACKET_MR_PROMISC;
  if (port->packet_fd_ < 0 ||
      setsockopt(port->packet_fd_, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof mr) < 0) {
    *error = "AF_PACKET side socket on " + name + ": " + std::strerror(errno);
    return nullptr;
  }
  port->soft_gso_ = std::getenv("HVNET_XDP_SOFT_GSO") != nullptr;
  if (port->queues_.size() == 1) {
    port->poll_fd_ = port->queues_[0]->fd;
  } else {
    port->epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
    for (auto& q : port->queues_) {
      epoll_event ev{};
      ev.events = EPOLLIN;
      epoll_ctl(port->epoll_fd_, EPOLL_CTL_ADD, q->fd, &ev);
    }
    port->poll_fd_ = port->epoll_fd_;
  }
  return port;
}

XdpPort::~XdpPort() {
  queues_.clear();
  if (epoll_fd_ >= 0) ::close(epoll_fd_);
  if (packet_fd_ >= 0) ::close(packet_fd_);
}

uint32_t XdpPort::rx_queue(Queue& q, PacketPool& pool, PacketBatch& batch) noexcept {
  // An empty ring costs one shared-memory read: this is what a spinning thread polls.
  if (xsk_cons_nb_avail(&q.rx, 1) == 0) {
    if (xsk_ring_prod__needs_wakeup(&q.fill))
      recvfrom(q.fd, nullptr, 0, MSG_DONTWAIT, nullptr, nullptr);
    return 0;
  }
  Packet* pkts[kBatchSize];
  uint32_t want = pool.alloc(pkts, batch.room());
  uint32_t idx = 0;
  uint32_t got = want ? xsk_ring_cons__peek(&q.rx, want, &idx) : 0;
  if (got == 0) {
    pool.free(pkts, want);
    return 0;
  }
  uint32_t fidx = 0;
  // Every chunk taken from the rx ring goes straight back to the fill ring, which therefore
  // always has room for it.
  xsk_ring_prod__reserve(&q.fill, got, &fidx);
  uint32_t kept = 0;
  for (uint32_t i = 0; i < got; ++i) {
    const xdp_desc* d = xsk_ring_cons__rx_desc(&q.rx, idx + i);
    uint64_t addr = xsk_umem__extract_addr(d->addr);
    uint64_t off = xsk_umem__add_offset_to_addr(d->addr);
    Packet* p = pkts[kept];
    if (d->len == 0 || d->len > kFrameCapacity) {
      PortStats::bump(stats().rx_dropped);
    } else {
      std::memcpy(p->data, q.area + off, d->len);
      p->len = d->len;
      soft::mark_partial_checksum(p->data, p->len, p->vnet);
      batch.push(p);
      ++kept;
    }
    *xsk_ring_prod__fill_addr(&q.fill, fidx + i) = addr;
  }
  xsk_ring_cons__release(&q.rx, got);
  xsk_ring_prod__submit(&q.fill, got);
  pool.free(pkts + kept, want - kept);
  return kept;
}

uint32_t XdpPort::rx_burst(PacketPool& pool, PacketBatch& batch) noexcept {
  uint32_t got = 0;
  const uint32_t n = uint32_t(queues_.size());
  for (uint32_t k = 0; k < n && !batch.full(); ++k) {
    Queue& q = *queues_[(next_rx_ + k) % n];
    got += rx_queue(q, pool, batch);
  }
  next_rx_ = n > 1 ? (next_rx_ + 1) % n : 0;
  // Frames arrive one MSS at a time: fold each flow's consecutive segments into one GSO frame.
  // The count returned stays what was received, so the caller still sees a full read as busy.
  // rx_packets keeps counting wire frames: the pipeline counts the batch after folding.
  if (got > 1) PortStats::bump(stats().rx_packets, soft::coalesce_tcp(batch, pool));
  return got;
}

void XdpPort::collect_missed() noexcept {
  // The kernel's AF_XDP counts only grow: the port's figure is their sum over its queues.
  uint64_t missed = 0;
  for (const auto& q : queues_) {
    xdp_statistics st{};
    socklen_t len = sizeof st;
    if (getsockopt(q->fd, SOL_XDP, XDP_STATISTICS, &st, &len) == 0)
      missed += st.rx_dropped + st.rx_ring_full;
  }
  stats().rx_missed.store(missed, std::memory_order_relaxed);
}

uint32_t XdpPort::tx_burst(const TxItem* items, uint32_t n) noexcept {
  // Runs of GSO super-frames go whole through the AF_PACKET socket (the kernel, or a veth peer,
  // takes them as they are); everything else through the ring. Each run is sent before the next
  // starts, so a flow's frames keep their order.
  uint32_t sent = 0;
  for (uint32_t i = 0; i < n;) {
    const bool gso = items[i].pkt->vnet.is_gso();
    uint32_t j = i + 1;
    while (j < n && items[j].pkt->vnet.is_gso() == gso) ++j;
    sent += gso && !soft_gso_ ? packet_socket_send(packet_fd_, items + i, j - i)
                              : tx_ring(items + i, j - i);
    i = j;
  }
  return sent;
}

uint32_t XdpPort::tx_ring(const TxItem* items, uint32_t n) noexcept {
  Queue& q = *queues_[0];
  q.reclaim();
  uint32_t sent = 0, queued = 0;
  for (uint32_t i = 0; i < n; ++i) {
    EgressFrame ef;
    if (!ef.build(items[i], kEthMinFrame)) continue;
    const soft::FrameView view{ef.iov + 1, ef.iov_count - 1, ef.frame_len};
    const soft::Plan plan = soft::plan(ef.vnet, view);
    if (plan.kind == soft::Plan::Kind::kUnsupported ||
        soft::largest_frame(plan, view) > max_frame()) {
      PortStats::bump(stats().tx_errors);  // e.g. a jumbo frame: one chunk cannot hold it
      continue;
    }
    if (plan.frames > q.tx_free_count) {
      q.kick();  // let the kernel drain what is queued, then take back what it finished
      q.reclaim();
      if (plan.frames > q.tx_free_count) break;
    }
    uint32_t idx = 0;
    if (xsk_ring_prod__reserve(&q.tx, plan.frames, &idx) != plan.frames) break;
    for (uint32_t k = 0; k < plan.frames; ++k) {
      uint64_t addr = q.tx_free[--q.tx_free_count];
      xdp_desc* d = xsk_ring_prod__tx_desc(&q.tx, idx + k);
      d->addr = addr;
      d->len = soft::write_frame(plan, ef.vnet, view, k, q.area + addr, max_frame());
    }
    xsk_ring_prod__submit(&q.tx, plan.frames);
    queued += plan.frames;
    ++sent;
  }
  if (queued) q.kick();
  return sent;
}

}  // namespace hvnet
