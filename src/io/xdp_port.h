// XdpPort: a PIF (a NIC or a veth) driven through AF_XDP sockets (libxdp), one per receive queue,
// each with its own UMEM. Receive and transmit go through shared rings: no syscall per frame, one
// wake-up per batch at most; it never blocks. Received TCP segments of one flow are coalesced into
// GSO frames (soft_gro.h). AF_XDP frames carry no offload metadata: partial
// checksums are completed in software on the way out, and GSO super-frames leave whole through an
// AF_PACKET socket with their vnet header (the kernel segments them only if the device needs it).
// A frame must fit one 4 KiB chunk: native mode makes a veth peer segment before sending; generic
// mode turns GRO/LRO off, but a local sender's TSO super-frames (a veth peer) cannot pass it.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "io/port.h"

namespace hvnet {

enum class XdpMode : uint8_t { kNative, kGeneric };
const char* xdp_mode_name(XdpMode m) noexcept;

class XdpPort final : public Port {
 public:
  // Attaches to every receive queue of interface `name` in `mode` (need-wakeup; zero-copy when
  // asked, else copy mode), makes the interface promiscuous and brings it up. On failure returns
  // null and the reason.
  static std::unique_ptr<XdpPort> open(const std::string& name, XdpMode mode, bool zerocopy,
                                       std::string* error);
  ~XdpPort() override;

  uint32_t rx_burst(PacketPool& pool, PacketBatch& batch) noexcept override;
  uint32_t tx_burst(const TxItem* items, uint32_t n) noexcept override;
  int fd() const noexcept override { return poll_fd_; }
  void collect_missed() noexcept override;
  bool rx_polls_memory() const noexcept override { return true; }
  std::string backend() const override;

  XdpMode mode() const noexcept { return mode_; }
  size_t queue_count() const noexcept { return queues_.size(); }
  // Largest frame one UMEM chunk holds, and whether frames of an MTU (with up to two VLAN tags)
  // fit it; larger MTUs must use another backend.
  static uint32_t max_frame() noexcept;
  static bool fits_mtu(uint32_t mtu) noexcept;

 private:
  struct Queue;
  XdpPort(std::string name, XdpMode mode, bool zerocopy);
  uint32_t rx_queue(Queue& q, PacketPool& pool, PacketBatch& batch) noexcept;
  uint32_t tx_ring(const TxItem* items, uint32_t n) noexcept;

  XdpMode mode_;
  bool zerocopy_;
  std::vector<std::unique_ptr<Queue>> queues_;
  int poll_fd_ = -1;   // the queue's socket, or an epoll set of all queues' sockets
  int epoll_fd_ = -1;  // owned when there is more than one queue
  // AF_PACKET socket (protocol 0: receives nothing) holding the promiscuous membership and
  // sending GSO super-frames with their vnet header.
  int packet_fd_ = -1;
  bool soft_gso_ = false;  // segment in software instead (HVNET_XDP_SOFT_GSO, for comparison)
  uint32_t next_rx_ = 0;
};

}  // namespace hvnet
