// VxlanPort: a VXLAN tunnel endpoint (RFC 7348) as one switch port. It owns a UDP socket bound to
// the host's transport address (the underlay is the host's own IP stack: routing, ARP, a VLAN
// PIF under the address all come with it) and carries several networks, one VNI each.
//
// To the pipeline it is a trunk: each VNI is presented as a local 802.1Q tag (VxlanTunnel::tag),
// so frames arrive tagged with their network's tag and leave with it, and the switch's VLAN
// machinery does the rest. Inner frames travel untagged.
//
// Receive: one recvmmsg per batch straight into packet buffers (the VXLAN header lands in a side
// buffer); frames with a bad header or an unknown VNI are counted in rx_dropped. The inner source
// MAC is learned against the sending VTEP, per VNI, with ageing.
// Transmit: a frame to a learned MAC goes to its VTEP; anything else (broadcast, multicast,
// unknown unicast) to every remote VTEP of its VNI (head-end replication). The underlay carries no
// offload metadata: partial checksums are completed and TCP super-frames segmented in software
// first (packet/soft_offload.h). One sendmmsg per batch.
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

namespace hvnet {

inline constexpr uint16_t kVxlanDefaultPort = 4789;
inline constexpr uint32_t kVxlanMaxVni = (1u << 24) - 1;

struct VxlanTunnel {
  uint32_t vni = 0;
  uint16_t tag = 0;  // the 802.1Q tag the switch knows this VNI's network by
  // Remote VTEPs (IPv4). When there are any, datagrams of this VNI from other sources are
  // dropped (counted in rx_dropped): a private network takes frames from its own VTEPs only.
  std::vector<in_addr> remotes;
  uint32_t mtu = 1500;  // the network's MTU: what an inner super-frame is cut to
};

struct VxlanConfig {
  in_addr local{};  // transport address; INADDR_ANY binds every address
  uint16_t udp_port = kVxlanDefaultPort;
  std::vector<VxlanTunnel> tunnels;  // (the port keeps them sorted by VNI)
};

struct Packet;

namespace vxlan {
// Receive side of one datagram, pure (the port's rx and the fuzzer run it): the datagram's first
// 8 bytes are `hdr`, the inner frame is at p.data with p.len set. Validates the header (I flag),
// finds the tunnel of its VNI in `tunnels` (sorted by VNI), marks a partial checksum left by a VTEP
// on this host and a TCP super-frame's GSO fields (cut to the tunnel's MTU), and tags the frame
// with the tunnel's tag. `from`: the sending VTEP, which must be one of the tunnel's remotes
// when it has any (sorted by address). Returns the tunnel, or null for a datagram to drop.
const VxlanTunnel* decap(Packet& p, const uint8_t* hdr, const std::vector<VxlanTunnel>& tunnels,
                         in_addr from) noexcept;
// Writes the 8-byte header for `vni`.
void write_header(uint8_t* hdr, uint32_t vni) noexcept;
}  // namespace vxlan

class VxlanPort final : public Port {
 public:
  static std::unique_ptr<VxlanPort> open(const std::string& name, const VxlanConfig& cfg,
                                         std::string* error);
  ~VxlanPort() override;

  uint32_t rx_burst(PacketPool& pool, PacketBatch& batch) noexcept override;
  uint32_t tx_burst(const TxItem* items, uint32_t n) noexcept override;
  int fd() const noexcept override { return fd_; }
  std::string backend() const override { return "vxlan-udp"; }

  // Replaces the tunnels while the port runs (the socket and what is learned stay): MACs learned
  // behind a VTEP its VNI no longer reaches, and those of VNIs gone, are forgotten.
  void set_tunnels(std::vector<VxlanTunnel> tunnels);
  // The tunnel table for operators: per VNI its remotes, and the MACs learned behind each VTEP.
  nlohmann::json status() const;
  // Datagrams sent on the underlay (after segmentation, one per destination).
  uint64_t datagrams_sent() const noexcept { return sent_.load(std::memory_order_relaxed); }

 private:
  VxlanPort(std::string name, int fd, VxlanConfig cfg);

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
  static constexpr uint32_t kControlWords = 3;  // CMSG_SPACE(sizeof(uint16_t)) in uint64_ts
  static_assert(CMSG_SPACE(sizeof(uint16_t)) <= kControlWords * sizeof(uint64_t));

  // Sorts tunnels by VNI and their remotes by address, and indexes them by tag (tx_lock held).
  void index_tunnels();
  void learn(uint32_t vni, const uint8_t* mac, in_addr vtep, uint32_t now_s) noexcept;
  const Learned* lookup(uint32_t vni, const uint8_t* mac, uint32_t now_s) const noexcept;
  // Queues a message of datagrams iovs_[first, first + count) to `to` (UDP GSO when count > 1).
  void queue(uint32_t first, uint32_t count, in_addr to) noexcept;
  void flush() noexcept;

  int fd_;
  VxlanConfig cfg_;
  std::array<int16_t, 4096> by_tag_{};  // tag -> index in cfg_.tunnels, -1 for none
  std::vector<Learned> learned_;
  // Transmit staging: finished inner frames behind their VXLAN headers (one scratch slot each),
  // and one message per run of them and destination (see queue()).
  std::unique_ptr<uint8_t[]> scratch_;
  uint32_t slots_used_ = 0;
  std::vector<mmsghdr> msgs_;
  std::vector<iovec> iovs_;        // one per scratch slot
  std::vector<uint64_t> control_;  // one UDP_SEGMENT control message per message
  std::vector<sockaddr_in> dests_;
  uint32_t msg_count_ = 0;
  bool udp_gso_ = false;
  std::atomic<uint64_t> sent_{0};
};

}  // namespace hvnet
