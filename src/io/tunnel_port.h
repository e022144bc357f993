// TunnelPort: a tunnel endpoint as one switch port, carrying several networks to other hosts,
// one key each, over the host's own IP stack (routing, ARP, a VLAN PIF under the transport
// address all come with it). Two encapsulations:
//  - VXLAN (RFC 7348): a UDP socket bound to the transport address and port (4789); the key is
//    the VNI;
//  - GRE (RFC 2784/2890, Ethernet over GRE, protocol 0x6558, with a key): a raw IP socket for
//    protocol 47 bound to the transport address, which needs no gretap device in the kernel.
//
// To the pipeline it is a trunk: each key is presented as a local 802.1Q tag (TunnelNet::tag),
// so frames arrive tagged with their network's tag and leave with it, and the switch's VLAN
// machinery does the rest. Inner frames travel untagged.
//
// Receive: one recvmmsg per batch straight into packet buffers (outer headers land in a side
// buffer); frames with a bad header, an unknown key or from a VTEP the network does not reach
// are counted in rx_dropped. The inner source MAC is learned against the sending VTEP, per key,
// with ageing.
// Transmit: a frame to a learned MAC goes to its VTEP; anything else (broadcast, multicast,
// unknown unicast) to every remote VTEP of its key (head-end replication). The underlay carries
// no offload metadata: partial checksums are completed and TCP super-frames segmented in
// software first (packet/soft_offload.h); VXLAN hands a super-frame's datagrams to one UDP GSO
// send, from one of kTxSockets UDP source ports chosen by the inner flow (so the underlay's ECMP
// and the receiver's RSS spread flows, as RFC 7348 asks). One sendmmsg per batch and socket.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "io/port.h"
#include "util/tunnel_protocol.h"

namespace hvnet {

inline constexpr uint16_t kVxlanDefaultPort = 4789;
inline constexpr uint32_t kVxlanMaxVni = (1u << 24) - 1;
inline constexpr uint32_t kTunnelHeaderBytes = 8;  // a VXLAN header; a GRE header with a key

struct TunnelNet {
  uint32_t vni = 0;  // its key: the VNI (VXLAN) or the GRE key
  uint16_t tag = 0;  // the 802.1Q tag the switch knows this VNI's network by
  // Remote VTEPs (IPv4). When there are any, datagrams of this VNI from other sources are
  // dropped (counted in rx_dropped): a private network takes frames from its own VTEPs only.
  std::vector<in_addr> remotes;
  uint32_t mtu = 1500;  // the network's MTU: what an inner super-frame is cut to
};

struct TunnelConfig {
  TunnelProtocol protocol = TunnelProtocol::kVxlan;
  in_addr local{};                        // transport address; INADDR_ANY binds every address
  uint16_t udp_port = kVxlanDefaultPort;  // VXLAN only
  std::vector<TunnelNet> nets;            // (the port keeps them sorted by key)
};

struct Packet;

namespace tunnel {
// Receive side of one packet once its header gave `key`, pure: finds the network of the key in
// `nets` (sorted by key), checks that `from` is one of its remotes when it has any (sorted by
// address), marks a partial checksum left by a VTEP on this host and a TCP super-frame's GSO
// fields (cut to the network's MTU), and tags the frame (at p.data, p.len set) with the
// network's tag. Returns the network, or null for a packet to drop.
const TunnelNet* deliver(Packet& p, uint32_t key, const std::vector<TunnelNet>& nets,
                         in_addr from) noexcept;
}  // namespace tunnel

namespace vxlan {
// One datagram (the port's rx and the fuzzer run it): its first 8 bytes are `hdr`, the inner
// frame is at p.data. Validates the header (I flag), then tunnel::deliver.
const TunnelNet* decap(Packet& p, const uint8_t* hdr, const std::vector<TunnelNet>& nets,
                       in_addr from) noexcept;
// Writes the 8-byte header for `vni`.
void write_header(uint8_t* hdr, uint32_t vni) noexcept;
}  // namespace vxlan

namespace gre {
inline constexpr uint32_t kOuterBytes = 20 + kTunnelHeaderBytes;  // IPv4 without options, GRE
// One packet as a raw socket hands it: `outer` holds its IPv4 header and GRE header
// (kOuterBytes), the inner frame is at p.data. Takes version-0 GRE carrying Ethernet (0x6558)
// with a key and neither checksum nor sequence number, under an IPv4 header without options;
// then tunnel::deliver.
const TunnelNet* decap(Packet& p, const uint8_t* outer, const std::vector<TunnelNet>& nets,
                       in_addr from) noexcept;
// Writes the 8-byte GRE header (K bit, Transparent Ethernet Bridging) for `key`.
void write_header(uint8_t* hdr, uint32_t key) noexcept;
}  // namespace gre

class TunnelPort final : public Port {
 public:
  static std::unique_ptr<TunnelPort> open(const std::string& name, const TunnelConfig& cfg,
                                          std::string* error);
  ~TunnelPort() override;

  uint32_t rx_burst(PacketPool& pool, PacketBatch& batch) noexcept override;
  uint32_t tx_burst(const TxItem* items, uint32_t n) noexcept override;
  int fd() const noexcept override { return fd_; }
  std::string backend() const override {
    return cfg_.protocol == TunnelProtocol::kGre ? "gre-raw" : "vxlan-udp";
  }

  // Replaces the networks while the port runs (the socket and what is learned stay): MACs learned
  // behind a VTEP a key no longer reaches, and those of keys gone, are forgotten.
  void set_tunnels(std::vector<TunnelNet> nets);
  // The tunnel table for operators: per key its remotes, and the MACs learned behind each VTEP.
  nlohmann::json status() const;
  // Packets sent on the underlay (after segmentation, one per destination).
  uint64_t datagrams_sent() const noexcept { return sent_.load(std::memory_order_relaxed); }

 private:
  TunnelPort(std::string name, int fd, TunnelConfig cfg);

  struct Learned {
    uint64_t mac = 0;  // 0 when free
    uint32_t vni = 0;
    in_addr vtep{};
    uint32_t seen_s = 0;
  };
  static constexpr uint32_t kLearnSlots = 4096;  // power of two
  static constexpr uint32_t kLearnProbe = 16;
  static constexpr uint32_t kAgeingS = 300;
  static constexpr uint32_t kScratchSlots = 128;
  static constexpr uint32_t kSlotBytes = 8 + 9216 + 64;
  static constexpr uint32_t kMaxMsgs = 512;
  static constexpr uint32_t kGsoSegments = 64;  // datagrams in one UDP GSO send, at most
  static constexpr uint32_t kGsoBytes = 60000;  // and their bytes (one IP packet's worth)
  static constexpr uint32_t kTxSockets = 8;     // VXLAN source ports
  static constexpr uint32_t kControlWords = 3;  // CMSG_SPACE(sizeof(uint16_t)) in uint64_ts
  static_assert(CMSG_SPACE(sizeof(uint16_t)) <= kControlWords * sizeof(uint64_t));

  // Sorts tunnels by VNI and their remotes by address, and indexes them by tag (tx_lock held).
  void index_tunnels();
  void learn(uint32_t vni, const uint8_t* mac, in_addr vtep, uint32_t now_s) noexcept;
  const Learned* lookup(uint32_t vni, const uint8_t* mac, uint32_t now_s) const noexcept;
  // Queues a message of datagrams iovs_[first, first + count) to `to` (UDP GSO when count > 1),
  // to leave through tx_fds_[sock].
  void queue(uint32_t first, uint32_t count, in_addr to, uint8_t sock) noexcept;
  void flush() noexcept;

  int fd_;
  // Where datagrams leave from: VXLAN's source-port sockets (bound to the transport address, an
  // ephemeral port each), or fd_ for all (GRE, or when they could not be made).
  std::array<int, kTxSockets> tx_fds_{};
  TunnelConfig cfg_;
  std::array<int16_t, 4096> by_tag_{};  // tag -> index in cfg_.nets, -1 for none
  std::vector<Learned> learned_;
  // Transmit staging: finished inner frames behind their tunnel headers (one scratch slot each),
  // and one message per run of them and destination (see queue()).
  std::unique_ptr<uint8_t[]> scratch_;
  uint32_t slots_used_ = 0;
  std::vector<mmsghdr> msgs_;
  std::vector<iovec> iovs_;        // one per scratch slot
  std::vector<uint64_t> control_;  // one UDP_SEGMENT control message per message
  std::vector<sockaddr_in> dests_;
  std::vector<uint8_t> msg_sock_;    // per message: its tx_fds_ index
  std::vector<mmsghdr> sock_batch_;  // flush(): one socket's messages
  uint32_t msg_count_ = 0;
  bool udp_gso_ = false;
  std::atomic<uint64_t> sent_{0};
};

}  // namespace hvnet
