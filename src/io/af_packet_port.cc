#include "io/af_packet_port.h"

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "hostnet/link.h"
#include "io/egress_frame.h"
#include "packet/headers.h"

namespace hvnet {

namespace {
// The receive ring: 512 slots of 2 KiB (a 1500-byte MTU frame with two VLAN tags and the headers
// fits one) in 16 blocks of 64 KiB, 1 MiB a port.
constexpr uint32_t kRingFrame = 2048, kRingBlock = 1 << 16, kRingBlocks = 16;
constexpr uint32_t kRingFrames = kRingBlock / kRingFrame * kRingBlocks;
constexpr size_t kRingBytes = size_t(kRingBlock) * kRingBlocks;
}  // namespace

std::unique_ptr<AfPacketPort> AfPacketPort::open(const std::string& name, std::string* error) {
  auto fail = [&](const char* what, int fd) -> std::unique_ptr<AfPacketPort> {
    *error = std::string(what) + " for " + name + ": " + std::strerror(errno);
    if (fd >= 0) ::close(fd);
    return nullptr;
  };
  int idx = hostnet::if_index(name);
  if (idx == 0) {
    errno = ENODEV;
    return fail("no such interface", -1);
  }
  int fd = ::socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, htons(ETH_P_ALL));
  if (fd < 0) return fail("socket(AF_PACKET)", -1);
  int one = 1;
  if (setsockopt(fd, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof one) < 0)
    return fail("PACKET_VNET_HDR", fd);
  if (setsockopt(fd, SOL_PACKET, PACKET_AUXDATA, &one, sizeof one) < 0)
    return fail("PACKET_AUXDATA", fd);
  // Our own transmissions must not come back to us as receptions.
  if (setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one) < 0)
    return fail("PACKET_IGNORE_OUTGOING", fd);
  int buf = 4 << 20;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof buf);  // (it only receives)
  std::unique_ptr<AfPacketPort> port(new AfPacketPort(name, fd, -1));
  if (!std::getenv("HVNET_AF_PACKET_NO_RING")) port->map_ring();
  sockaddr_ll sll{};
  sll.sll_family = AF_PACKET;
  sll.sll_protocol = htons(ETH_P_ALL);
  sll.sll_ifindex = idx;
  if (bind(fd, reinterpret_cast<sockaddr*>(&sll), sizeof sll) < 0) return fail("bind", -1);
  packet_mreq mr{};
  mr.mr_ifindex = idx;
  mr.mr_type = PACKET_MR_PROMISC;
  if (setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof mr) < 0)
    return fail("promiscuous mode", -1);
  port->tx_fd_ = open_packet_tx_socket(idx, false);
  if (port->tx_fd_ < 0) return fail("sending socket", -1);
  if (int rc = hostnet::set_link_up(name, true); rc < 0) {
    errno = -rc;
    return fail("bring up", -1);
  }
  return port;
}

// PACKET_COPY_THRESH: a frame that does not fit its slot (a GSO super-frame, a jumbo frame) marks
// the slot TP_STATUS_COPY and waits whole on the socket's queue. Best effort: without the ring,
// recvmmsg does it all.
bool AfPacketPort::map_ring() noexcept {
  int version = TPACKET_V2, one = 1;
  tpacket_req req{kRingBlock, kRingBlocks, kRingFrame, kRingFrames};
  if (setsockopt(fd_, SOL_PACKET, PACKET_VERSION, &version, sizeof version) < 0 ||
      setsockopt(fd_, SOL_PACKET, PACKET_COPY_THRESH, &one, sizeof one) < 0 ||
      setsockopt(fd_, SOL_PACKET, PACKET_RX_RING, &req, sizeof req) < 0)
    return false;
  void* m = mmap(nullptr, kRingBytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd_, 0);
  if (m == MAP_FAILED) return false;
  ring_ = static_cast<uint8_t*>(m);
  return true;
}

AfPacketPort::~AfPacketPort() {
  if (ring_) munmap(ring_, kRingBytes);
  ::close(fd_);
  if (tx_fd_ >= 0) ::close(tx_fd_);
}

int open_packet_tx_socket(int ifindex, bool qdisc_bypass) noexcept {
  int fd = ::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  int one = 1;
  int buf = 4 << 20;
  setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &buf, sizeof buf);
  sockaddr_ll sll{};
  sll.sll_family = AF_PACKET;
  sll.sll_protocol = 0;
  sll.sll_ifindex = ifindex;
  if (setsockopt(fd, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof one) < 0 ||
      (qdisc_bypass && setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof one) < 0) ||
      bind(fd, reinterpret_cast<sockaddr*>(&sll), sizeof sll) < 0) {
    int e = errno;
    ::close(fd);
    errno = e;
    return -1;
  }
  return fd;
}

void AfPacketPort::collect_missed() noexcept {
  tpacket_stats st{};  // (reading resets the kernel's counts: each drop is added once)
  socklen_t len = sizeof st;
  if (getsockopt(fd_, SOL_PACKET, PACKET_STATISTICS, &st, &len) == 0)
    stats().rx_missed.fetch_add(st.tp_drops, std::memory_order_relaxed);
}

uint32_t AfPacketPort::rx_burst(PacketPool& pool, PacketBatch& batch) noexcept {
  return ring_ ? rx_ring(pool, batch) : rx_socket(pool, batch, batch.room(), nullptr);
}

uint32_t AfPacketPort::rx_ring(PacketPool& pool, PacketBatch& batch) noexcept {
  auto slot = [&](uint32_t i) {
    return reinterpret_cast<tpacket2_hdr*>(ring_ + size_t(i) * kRingFrame);
  };
  auto release = [&](tpacket2_hdr* h) {
    __atomic_store_n(&h->tp_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
    head_ = head_ + 1 == kRingFrames ? 0 : head_ + 1;
  };
  uint32_t got = 0;
  while (!batch.full()) {
    tpacket2_hdr* h = slot(head_);
    const uint32_t status = __atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE);
    if (!(status & TP_STATUS_USER)) break;
    if (status & TP_STATUS_COPY) {
      // This frame and the run of large ones after it wait whole on the socket's queue, in order.
      uint32_t run = 1;
      for (uint32_t i = head_ + 1; run < batch.room(); ++run, ++i) {
        const uint32_t st = __atomic_load_n(&slot(i % kRingFrames)->tp_status, __ATOMIC_ACQUIRE);
        if ((st & (TP_STATUS_USER | TP_STATUS_COPY)) != (TP_STATUS_USER | TP_STATUS_COPY)) break;
      }
      uint32_t taken = 0;  // frames taken off the queue (kept or dropped): one per slot
      got += rx_socket(pool, batch, run, &taken);
      for (uint32_t k = 0; k < taken; ++k) release(slot(head_));
      if (taken < run) break;  // no buffer, or the queue is behind: the slots wait
      continue;
    }
    Packet* p = pool.alloc_one();
    if (!p) break;  // (the slot stays for the next call)
    const uint8_t* frame = reinterpret_cast<const uint8_t*>(h) + h->tp_mac;
    // (A frame cut to its slot without a copy on the queue -- the socket's buffer was full -- is
    // lost.)
    if (h->tp_mac < sizeof(VnetHdr) || h->tp_snaplen < h->tp_len ||
        h->tp_snaplen > kFrameCapacity || h->tp_mac + h->tp_snaplen > kRingFrame) {
      PortStats::bump(stats().rx_dropped);
      pool.free(p);
      release(h);
      continue;
    }
    std::memcpy(&p->vnet, frame - sizeof(VnetHdr), sizeof(VnetHdr));
    std::memcpy(p->data, frame, h->tp_snaplen);
    p->len = h->tp_snaplen;
    if (status & TP_STATUS_VLAN_VALID)
      p->insert_vlan_tag((status & TP_STATUS_VLAN_TPID_VALID) ? h->tp_vlan_tpid : kEtherTypeVlan,
                         h->tp_vlan_tci);
    release(h);
    batch.push(p);
    ++got;
  }
  return got;
}

uint32_t AfPacketPort::rx_socket(PacketPool& pool, PacketBatch& batch, uint32_t max,
                                 uint32_t* taken) noexcept {
  if (taken) *taken = 0;
  constexpr size_t kCtrl = CMSG_SPACE(sizeof(tpacket_auxdata));
  mmsghdr msgs[kBatchSize];
  iovec iovs[kBatchSize][2];
  alignas(cmsghdr) uint8_t ctrl[kBatchSize][kCtrl];
  Packet* pkts[kBatchSize];
  uint32_t want = pool.alloc(pkts, max < batch.room() ? max : batch.room());
  if (want == 0) return 0;
  for (uint32_t i = 0; i < want; ++i) {
    Packet* p = pkts[i];
    iovs[i][0] = {&p->vnet, sizeof(VnetHdr)};
    iovs[i][1] = {p->data, kFrameCapacity};
    msgs[i].msg_hdr = msghdr{};
    msgs[i].msg_hdr.msg_iov = iovs[i];
    msgs[i].msg_hdr.msg_iovlen = 2;
    msgs[i].msg_hdr.msg_control = ctrl[i];
    msgs[i].msg_hdr.msg_controllen = kCtrl;
    msgs[i].msg_len = 0;
  }
  int r = recvmmsg(fd_, msgs, want, MSG_DONTWAIT, nullptr);
  uint32_t got = r > 0 ? uint32_t(r) : 0;
  if (taken) *taken = got;
  for (uint32_t i = 0; i < got; ++i) {
    Packet* p = pkts[i];
    if (msgs[i].msg_len < sizeof(VnetHdr) || (msgs[i].msg_hdr.msg_flags & MSG_TRUNC)) {
      PortStats::bump(stats().rx_dropped);
      pool.free(p);
      continue;
    }
    p->len = msgs[i].msg_len - uint32_t(sizeof(VnetHdr));
    for (cmsghdr* c = CMSG_FIRSTHDR(&msgs[i].msg_hdr); c; c = CMSG_NXTHDR(&msgs[i].msg_hdr, c)) {
      if (c->cmsg_level != SOL_PACKET || c->cmsg_type != PACKET_AUXDATA) continue;
      tpacket_auxdata aux;
      std::memcpy(&aux, CMSG_DATA(c), sizeof aux);
      if (aux.tp_status & TP_STATUS_VLAN_VALID) {
        uint16_t tpid =
            (aux.tp_status & TP_STATUS_VLAN_TPID_VALID) ? aux.tp_vlan_tpid : kEtherTypeVlan;
        p->insert_vlan_tag(tpid, aux.tp_vlan_tci);
      }
    }
    batch.push(p);
  }
  pool.free(pkts + got, want - got);
  return got;
}

uint32_t AfPacketPort::tx_burst(const TxItem* items, uint32_t n) noexcept {
  return packet_socket_send(tx_fd_, items, n);
}

uint32_t packet_socket_send(int fd, const TxItem* items, uint32_t n) noexcept {
  return send_in_batches(items, n, kEthMinFrame, [fd](EgressFrame* frames, uint32_t built) {
    mmsghdr msgs[kBatchSize];
    for (uint32_t i = 0; i < built; ++i) {
      msgs[i].msg_hdr = msghdr{};
      msgs[i].msg_hdr.msg_iov = frames[i].iov;
      msgs[i].msg_hdr.msg_iovlen = size_t(frames[i].iov_count);
    }
    uint32_t at = 0, sent = 0;
    while (at < built) {
      int r = sendmmsg(fd, msgs + at, built - at, MSG_DONTWAIT);
      if (r > 0) {
        at += uint32_t(r);
        sent += uint32_t(r);
      } else if (r < 0 && (errno == EAGAIN || errno == ENOBUFS)) {
        break;  // the device is full: the rest of the batch is lost, counted by the caller
      } else {
        ++at;  // this frame was refused (e.g. EMSGSIZE); go on with the next one
      }
    }
    return sent;
  });
}

}  // namespace hvnet
