#include "io/tunnel_port.h"

#include <arpa/inet.h>
#include <linux/udp.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "io/egress_frame.h"
#include "packet/flow_hash.h"
#include "packet/mac.h"
#include "packet/packet_batch.h"
#include "packet/packet_pool.h"
#include "packet/soft_gro.h"
#include "packet/soft_offload.h"
#include "util/ipv4.h"
#include "util/mix64.h"

namespace hvnet {

namespace {

constexpr uint8_t kVxlanFlagVni = 0x08;     // the I flag: the VNI field is valid
constexpr uint16_t kGreFlagKey = 0x2000;    // the K bit: a key follows
constexpr uint16_t kEtherTypeTeb = 0x6558;  // Transparent Ethernet Bridging

uint32_t now_seconds() noexcept {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return uint32_t(ts.tv_sec);
}

uint32_t slot_of(uint64_t mac, uint32_t vni) noexcept {
  return uint32_t(mix64(mac ^ uint64_t(vni) << 40));
}

bool vni_before(const TunnelNet& t, uint32_t vni) noexcept {
  return t.vni < vni;
}

bool addr_before(in_addr a, in_addr b) noexcept {
  return a.s_addr < b.s_addr;
}

// A VTEP on this host hands its TCP segmentation to an offload too: its socket-bound datagram
// then carries a whole super-frame (IP length up to 64 KiB, partial checksum). Such a frame gets
// the GSO fields a TAP or the kernel would give it, cut to the network's MTU, so it crosses the
// switch as one frame and is segmented (or not) where it leaves.
void mark_super_frame(Packet& p, uint32_t mtu) noexcept {
  const VnetHdr& v = p.vnet;
  const uint32_t l4 = v.csum_start;
  if (v.csum_offset != 16 || l4 + 20 > p.len) return;  // TCP only
  bool ipv6 = false;
  const uint32_t l3 = soft::l3_offset(p.data, p.len < 64 ? p.len : 64, &ipv6);
  if (l3 == 0 || p.len - l3 <= mtu) return;
  const uint32_t tcp_hdr = (p.data[l4 + 12] >> 4) * 4u;
  const uint32_t headers = (l4 - l3) + tcp_hdr;
  if (tcp_hdr < 20 || l4 + tcp_hdr > p.len || headers >= mtu) return;
  p.vnet.gso_type = ipv6 ? VnetHdr::kGsoTcpV6 : VnetHdr::kGsoTcpV4;
  p.vnet.hdr_len = uint16_t(l4 + tcp_hdr);
  p.vnet.gso_size = uint16_t(mtu - headers);
}

}  // namespace

namespace tunnel {

const TunnelNet* deliver(Packet& p, uint32_t key, const std::vector<TunnelNet>& nets,
                         in_addr from) noexcept {
  if (p.len < 14) return nullptr;
  const auto it = std::lower_bound(nets.begin(), nets.end(), key, vni_before);
  if (it == nets.end() || it->vni != key) return nullptr;  // a key this host does not carry
  const TunnelNet* t = &*it;
  if (!t->remotes.empty() &&
      !std::binary_search(t->remotes.begin(), t->remotes.end(), from, addr_before))
    return nullptr;  // not one of the network's VTEPs
  p.vnet = VnetHdr{};
  // A VTEP on this host (a kernel vxlan device over a veth) leaves inner checksums to an
  // offload no wire ever performed: such frames cross as partial-checksum frames.
  if (soft::mark_partial_checksum(p.data, p.len, p.vnet)) mark_super_frame(p, t->mtu);
  return p.insert_vlan_tag(kEtherTypeVlan, t->tag) ? t : nullptr;
}

}  // namespace tunnel

namespace vxlan {

const TunnelNet* decap(Packet& p, const uint8_t* hdr, const std::vector<TunnelNet>& nets,
                       in_addr from) noexcept {
  if (!(hdr[0] & kVxlanFlagVni)) return nullptr;
  const uint32_t vni = uint32_t(hdr[4]) << 16 | uint32_t(hdr[5]) << 8 | hdr[6];
  return tunnel::deliver(p, vni, nets, from);
}

void write_header(uint8_t* hdr, uint32_t vni) noexcept {
  hdr[0] = kVxlanFlagVni;
  hdr[1] = hdr[2] = hdr[3] = 0;
  hdr[4] = uint8_t(vni >> 16);
  hdr[5] = uint8_t(vni >> 8);
  hdr[6] = uint8_t(vni);
  hdr[7] = 0;
}

}  // namespace vxlan

namespace gre {

const TunnelNet* decap(Packet& p, const uint8_t* outer, const std::vector<TunnelNet>& nets,
                       in_addr from) noexcept {
  if (outer[0] != 0x45) return nullptr;  // IPv4 without options
  const uint8_t* g = outer + 20;
  // Flags and version: K alone (no checksum, routing or sequence number), version 0.
  if (load_be16(g) != kGreFlagKey || load_be16(g + 2) != kEtherTypeTeb) return nullptr;
  return tunnel::deliver(p, load_be32(g + 4), nets, from);
}

void write_header(uint8_t* hdr, uint32_t key) noexcept {
  hdr[0] = uint8_t(kGreFlagKey >> 8);
  hdr[1] = 0;
  hdr[2] = uint8_t(kEtherTypeTeb >> 8);
  hdr[3] = uint8_t(kEtherTypeTeb);
  hdr[4] = uint8_t(key >> 24);
  hdr[5] = uint8_t(key >> 16);
  hdr[6] = uint8_t(key >> 8);
  hdr[7] = uint8_t(key);
}

}  // namespace gre

std::unique_ptr<TunnelPort> TunnelPort::open(const std::string& name, const TunnelConfig& cfg,
                                             std::string* error) {
  const bool gre = cfg.protocol == TunnelProtocol::kGre;
  int fd = gre ? ::socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_GRE)
               : ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    *error = std::string(gre ? "GRE raw socket: " : "UDP socket: ") + std::strerror(errno);
    return nullptr;
  }
  int one = 1, buf = 8 << 20;
  // (A replaced port's socket stays open until every forwarding thread has left it.)
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof buf);
  setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &buf, sizeof buf);
  // The inner frame must arrive whole or not at all: the outer packet is never fragmented.
  int pmtu = IP_PMTUDISC_DO;
  setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &pmtu, sizeof pmtu);
  // The transport address may not be on its interface yet (at start the host's addresses come
  // after the data plane): bind to it anyway, and receive once it is there.
  setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &one, sizeof one);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr = cfg.local;
  sa.sin_port = gre ? 0 : htons(cfg.udp_port);
  if (bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) < 0) {
    *error = "bind " + ipv4_text(cfg.local) + (gre ? "" : ":" + std::to_string(cfg.udp_port)) +
             ": " + std::strerror(errno);
    ::close(fd);
    return nullptr;
  }
  auto port = std::unique_ptr<TunnelPort>(new TunnelPort(name, fd, cfg));
  // UDP GSO (Linux 4.18): a super-frame's datagrams leave in one send and stay one packet down
  // the host's stack. HVNET_VXLAN_NO_GSO=1 sends each datagram on its own, for comparison.
  int zero = 0;
  port->udp_gso_ = !gre && !std::getenv("HVNET_VXLAN_NO_GSO") &&
                   setsockopt(fd, IPPROTO_UDP, UDP_SEGMENT, &zero, sizeof zero) == 0;
  if (!gre) {
    for (int& tx : port->tx_fds_) {
      tx = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      sockaddr_in any_port = sa;
      any_port.sin_port = 0;
      int small = 4096;  // nothing is meant to arrive here
      if (tx < 0 || setsockopt(tx, SOL_SOCKET, SO_SNDBUFFORCE, &buf, sizeof buf) != 0 ||
          setsockopt(tx, SOL_SOCKET, SO_RCVBUF, &small, sizeof small) != 0 ||
          setsockopt(tx, IPPROTO_IP, IP_MTU_DISCOVER, &pmtu, sizeof pmtu) != 0 ||
          setsockopt(tx, IPPROTO_IP, IP_FREEBIND, &one, sizeof one) != 0 ||
          (port->udp_gso_ && setsockopt(tx, IPPROTO_UDP, UDP_SEGMENT, &zero, sizeof zero) != 0) ||
          bind(tx, reinterpret_cast<sockaddr*>(&any_port), sizeof any_port) != 0) {
        if (tx >= 0) ::close(tx);
        tx = fd;  // (one source port is what a peer gets then)
      }
    }
  }
  return port;
}

TunnelPort::TunnelPort(std::string name, int fd, TunnelConfig cfg)
    : Port(std::move(name),
           cfg.protocol == TunnelProtocol::kGre ? PortKind::kGre : PortKind::kVxlan),
      fd_(fd),
      cfg_(std::move(cfg)),
      learned_(kLearnSlots),
      scratch_(new uint8_t[size_t(kScratchSlots) * kSlotBytes]),
      msgs_(kMaxMsgs),
      iovs_(kScratchSlots),
      control_(size_t(kMaxMsgs) * kControlWords),
      dests_(kMaxMsgs),
      msg_sock_(kMaxMsgs),
      sock_batch_(kMaxMsgs) {
  tx_fds_.fill(fd);
  index_tunnels();
}

void TunnelPort::index_tunnels() {
  std::sort(cfg_.nets.begin(), cfg_.nets.end(),
            [](const TunnelNet& a, const TunnelNet& b) { return a.vni < b.vni; });
  by_tag_.fill(-1);
  for (size_t i = 0; i < cfg_.nets.size(); ++i) {
    auto& r = cfg_.nets[i].remotes;
    std::sort(r.begin(), r.end(), addr_before);
    r.erase(
        std::unique(r.begin(), r.end(), [](in_addr a, in_addr b) { return a.s_addr == b.s_addr; }),
        r.end());
    by_tag_[cfg_.nets[i].tag & 0xfff] = int16_t(i);
  }
}

void TunnelPort::set_tunnels(std::vector<TunnelNet> tunnels) {
  std::lock_guard lk(tx_lock());
  cfg_.nets = std::move(tunnels);
  index_tunnels();
  for (Learned& e : learned_) {
    if (e.mac == 0) continue;
    const auto it = std::lower_bound(cfg_.nets.begin(), cfg_.nets.end(), e.vni, vni_before);
    const bool kept =
        it != cfg_.nets.end() && it->vni == e.vni &&
        (it->remotes.empty() ||
         std::binary_search(it->remotes.begin(), it->remotes.end(), e.vtep, addr_before));
    if (!kept) e = Learned{};
  }
}

TunnelPort::~TunnelPort() {
  for (int tx : tx_fds_)
    if (tx != fd_) ::close(tx);
  ::close(fd_);
}

void TunnelPort::learn(uint32_t vni, const uint8_t* mac, in_addr vtep, uint32_t now_s) noexcept {
  if (mac[0] & 1) return;  // (a group address is never a source)
  const uint64_t m = mac_u64_at(mac);
  const uint32_t base = slot_of(m, vni);
  Learned* free_slot = nullptr;
  Learned* oldest = nullptr;
  for (uint32_t i = 0; i < kLearnProbe; ++i) {
    Learned& e = learned_[(base + i) & (kLearnSlots - 1)];
    if (e.mac == m && e.vni == vni) {
      e.vtep = vtep;
      e.seen_s = now_s;
      return;
    }
    if (!free_slot && (e.mac == 0 || now_s - e.seen_s > kAgeingS)) free_slot = &e;
    if (!oldest || e.seen_s < oldest->seen_s) oldest = &e;
  }
  // A full neighbourhood gives up its stalest entry: that MAC is flooded until heard again.
  *(free_slot ? free_slot : oldest) = Learned{m, vni, vtep, now_s};
}

const TunnelPort::Learned* TunnelPort::lookup(uint32_t vni, const uint8_t* mac,
                                              uint32_t now_s) const noexcept {
  if (mac[0] & 1) return nullptr;
  const uint64_t m = mac_u64_at(mac);
  const uint32_t base = slot_of(m, vni);
  for (uint32_t i = 0; i < kLearnProbe; ++i) {
    const Learned& e = learned_[(base + i) & (kLearnSlots - 1)];
    if (e.mac == m && e.vni == vni) return now_s - e.seen_s > kAgeingS ? nullptr : &e;
  }
  return nullptr;
}

uint32_t TunnelPort::rx_burst(PacketPool& pool, PacketBatch& batch) noexcept {
  // Learning writes the table transmit reads, and any forwarding thread may transmit.
  std::lock_guard lk(tx_lock());
  Packet* pkts[kBatchSize];
  uint8_t hdr[kBatchSize][gre::kOuterBytes];  // the VXLAN header, or IPv4 and GRE headers
  const bool gre = cfg_.protocol == TunnelProtocol::kGre;
  const uint32_t outer = gre ? gre::kOuterBytes : kTunnelHeaderBytes;
  iovec iov[kBatchSize][2];
  sockaddr_in from[kBatchSize];
  mmsghdr msgs[kBatchSize];
  const uint32_t want = pool.alloc(pkts, batch.room());
  if (want == 0) return 0;
  for (uint32_t i = 0; i < want; ++i) {
    iov[i][0] = {hdr[i], outer};
    iov[i][1] = {pkts[i]->data, kFrameCapacity};
    msgs[i].msg_hdr = msghdr{};
    msgs[i].msg_hdr.msg_name = &from[i];
    msgs[i].msg_hdr.msg_namelen = sizeof from[i];
    msgs[i].msg_hdr.msg_iov = iov[i];
    msgs[i].msg_hdr.msg_iovlen = 2;
    msgs[i].msg_len = 0;
  }
  const int r = recvmmsg(fd_, msgs, want, MSG_DONTWAIT, nullptr);
  const uint32_t got = r > 0 ? uint32_t(r) : 0;
  const uint32_t now_s = got ? now_seconds() : 0;
  uint32_t kept = 0;
  for (uint32_t i = 0; i < want; ++i) {
    Packet* p = pkts[i];
    if (i >= got) {
      pool.free(p);
      continue;
    }
    const uint32_t len = msgs[i].msg_len;
    const TunnelNet* t = nullptr;
    if (len >= outer && !(msgs[i].msg_hdr.msg_flags & MSG_TRUNC)) {
      p->len = len - outer;
      t = gre ? gre::decap(*p, hdr[i], cfg_.nets, from[i].sin_addr)
              : vxlan::decap(*p, hdr[i], cfg_.nets, from[i].sin_addr);
    }
    if (!t) {  // not ours, cut short, a key this host does not carry, or a stranger's
      PortStats::bump(stats().rx_dropped);
      pool.free(p);
      continue;
    }
    learn(t->vni, p->data + 6, from[i].sin_addr, now_s);
    batch.push(p);
    ++kept;
  }
  // Datagrams carry one MSS each: a flow's consecutive segments become one GSO frame again
  // (rx_packets keeps counting datagrams, as XdpPort does).
  if (kept > 1) PortStats::bump(stats().rx_packets, soft::coalesce_tcp(batch, pool));
  return kept;
}

void TunnelPort::flush() noexcept {
  // Each source port's messages in queue order (a flow keeps its port, so its order holds).
  for (uint32_t sock = 0; sock < kTxSockets && msg_count_; ++sock) {
    uint32_t n = 0;
    for (uint32_t i = 0; i < msg_count_; ++i)
      if (msg_sock_[i] == sock) sock_batch_[n++] = msgs_[i];
    for (uint32_t at = 0; at < n;) {
      const int r = sendmmsg(tx_fds_[sock], sock_batch_.data() + at, n - at, MSG_DONTWAIT);
      if (r <= 0) {
        // An unreachable VTEP (ICMP error, no route) costs its datagram, not the others.
        PortStats::bump(stats().tx_errors);
        ++at;
        continue;
      }
      uint64_t datagrams = 0;
      for (int k = 0; k < r; ++k) datagrams += sock_batch_[at + uint32_t(k)].msg_hdr.msg_iovlen;
      at += uint32_t(r);
      sent_.fetch_add(datagrams, std::memory_order_relaxed);
    }
  }
  msg_count_ = 0;
  slots_used_ = 0;
}

void TunnelPort::queue(uint32_t first, uint32_t count, in_addr to, uint8_t sock) noexcept {
  msg_sock_[msg_count_] = sock;
  sockaddr_in& dst = dests_[msg_count_];
  dst = sockaddr_in{};
  dst.sin_family = AF_INET;
  dst.sin_port = cfg_.protocol == TunnelProtocol::kGre ? 0 : htons(cfg_.udp_port);
  dst.sin_addr = to;
  msghdr& mh = msgs_[msg_count_].msg_hdr;
  mh = msghdr{};
  mh.msg_name = &dst;
  mh.msg_namelen = sizeof dst;
  mh.msg_iov = &iovs_[first];
  mh.msg_iovlen = count;
  if (count > 1) {
    auto* control = reinterpret_cast<uint8_t*>(&control_[size_t(msg_count_) * kControlWords]);
    mh.msg_control = control;
    mh.msg_controllen = CMSG_SPACE(sizeof(uint16_t));
    cmsghdr* cm = CMSG_FIRSTHDR(&mh);
    cm->cmsg_level = IPPROTO_UDP;
    cm->cmsg_type = UDP_SEGMENT;
    cm->cmsg_len = CMSG_LEN(sizeof(uint16_t));
    const auto segment = uint16_t(iovs_[first].iov_len);
    std::memcpy(CMSG_DATA(cm), &segment, sizeof segment);
  }
  ++msg_count_;
}

uint32_t TunnelPort::tx_burst(const TxItem* items, uint32_t n) noexcept {
  const uint32_t now_s = now_seconds();
  uint32_t sent = 0;
  for (uint32_t i = 0; i < n; ++i) {
    const Packet& p = *items[i].pkt;
    const bool tagged = p.len >= 18 && load_be16(p.data + 12) == kEtherTypeVlan;
    uint16_t tag;
    if (items[i].op == VlanOp::kPush || items[i].op == VlanOp::kRetag)
      tag = items[i].tci & 0xfff;
    else if (tagged && items[i].op == VlanOp::kKeep)
      tag = load_be16(p.data + 14) & 0xfff;
    else
      tag = 0;  // (untagged: this port has no native network)
    const int16_t ti = by_tag_[tag];
    EgressFrame ef;
    if (ti < 0 || !ef.build(TxItem{&p, tagged ? VlanOp::kPop : VlanOp::kKeep, 0})) {
      PortStats::bump(stats().tx_errors);
      continue;
    }
    const TunnelNet& t = cfg_.nets[size_t(ti)];
    const soft::FrameView view{ef.iov + 1, ef.iov_count - 1, ef.frame_len};
    const soft::Plan plan = soft::plan(ef.vnet, view);
    if (plan.kind == soft::Plan::Kind::kUnsupported || plan.frames > kScratchSlots ||
        soft::largest_frame(plan, view) > kSlotBytes - kTunnelHeaderBytes) {
      PortStats::bump(stats().tx_errors);
      continue;
    }
    // Where it goes: the VTEP that owns the destination MAC, or every remote.
    uint8_t dst_mac[6];
    soft::gather(view, 0, 6, dst_mac);
    const Learned* known = lookup(t.vni, dst_mac, now_s);
    const uint32_t copies = known ? 1 : uint32_t(t.remotes.size());
    if (copies == 0) continue;  // no remote VTEP yet: nowhere to send
    if (slots_used_ + plan.frames > kScratchSlots || msg_count_ + plan.frames * copies > kMaxMsgs)
      flush();
    if (plan.frames * copies > kMaxMsgs) {
      PortStats::bump(stats().tx_errors);
      continue;
    }
    // The source port of its flow (GRE has none: every tx_fds_ is fd_).
    const uint8_t sock = uint8_t(l34_bucket(p.data, p.len,
                                            p.l2_len ? p.l2_len
                                            : tagged ? 18u
                                                     : 14u) %
                                 kTxSockets);
    const uint32_t first = slots_used_;
    for (uint32_t k = 0; k < plan.frames; ++k) {
      uint8_t* slot = scratch_.get() + size_t(slots_used_) * kSlotBytes;
      if (cfg_.protocol == TunnelProtocol::kGre)
        gre::write_header(slot, t.vni);
      else
        vxlan::write_header(slot, t.vni);
      const uint32_t len = soft::write_frame(plan, ef.vnet, view, k, slot + kTunnelHeaderBytes,
                                             kSlotBytes - kTunnelHeaderBytes);
      iovs_[slots_used_++] = {slot, kTunnelHeaderBytes + size_t(len)};
    }
    // One message per run of datagrams and destination: with UDP GSO a run of equal-sized
    // segments (a super-frame's; only the last may be shorter) goes down the stack as one.
    for (uint32_t at = first; at < slots_used_;) {
      uint32_t run = 1;
      size_t bytes = iovs_[at].iov_len;
      if (udp_gso_)
        while (at + run < slots_used_ && run < kGsoSegments &&
               bytes + iovs_[at + run].iov_len <= kGsoBytes &&
               iovs_[at + run - 1].iov_len == iovs_[at].iov_len) {
          bytes += iovs_[at + run].iov_len;
          ++run;
        }
      for (uint32_t c = 0; c < copies; ++c)
        queue(at, run, known ? known->vtep : t.remotes[c], sock);
      at += run;
    }
    ++sent;
  }
  flush();
  return sent;
}

nlohmann::json TunnelPort::status() const {
  std::lock_guard lk(tx_lock());
  const uint32_t now_s = now_seconds();
  nlohmann::json out;
  out["protocol"] = tunnel_protocol_name(cfg_.protocol);
  out["local"] = ipv4_text(cfg_.local);
  if (cfg_.protocol == TunnelProtocol::kVxlan) out["udp_port"] = cfg_.udp_port;
  out["datagrams_sent"] = datagrams_sent();
  out["tunnels"] = nlohmann::json::array();
  for (const auto& t : cfg_.nets) {
    nlohmann::json tj{{"vni", t.vni}, {"tag", t.tag}};
    tj["remotes"] = nlohmann::json::array();
    for (in_addr r : t.remotes) tj["remotes"].push_back(ipv4_text(r));
    tj["learned"] = nlohmann::json::array();
    for (const Learned& e : learned_) {
      if (e.mac == 0 || e.vni != t.vni || now_s - e.seen_s > kAgeingS) continue;
      tj["learned"].push_back({{"mac", MacAddr::from_u64(e.mac).to_string()},
                               {"vtep", ipv4_text(e.vtep)},
                               {"age_s", now_s - e.seen_s}});
    }
    out["tunnels"].push_back(tj);
  }
  return out;
}

}  // namespace hvnet
