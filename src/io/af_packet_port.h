// AfPacketPort: a PIF (a NIC or a veth) driven through AF_PACKET sockets with PACKET_VNET_HDR
// (one to receive, one to send). Frames are received through a shared ring (PACKET_RX_RING,
// TPACKET_V2): the kernel writes each frame into a slot, the forwarding thread reads the slots with
// no system call at all; frames larger than a slot (GSO super-frames, jumbo frames) are marked in
// their slot and read whole from the socket, in order, with one recvmmsg per run of them. Without
// a ring (HVNET_AF_PACKET_NO_RING=1, or a kernel refusing it) every frame comes through recvmmsg.
// Sends are batched with sendmmsg (one syscall per batch). VLAN tags the kernel strips into
// metadata are put back into the frame so the switch sees what was on the wire.
#pragma once

#include <memory>
#include <string>

#include "io/port.h"

namespace hvnet {

// Sends frames (vnet header first, so offloads pass to the kernel) on a bound AF_PACKET socket
// with PACKET_VNET_HDR, one sendmmsg per batch, padded to the Ethernet minimum (these sockets are
// PIFs: wires to physical switches). Returns how many the kernel took.
uint32_t packet_socket_send(int fd, const TxItem* items, uint32_t n) noexcept;

// Opens an AF_PACKET socket for sending only on interface `ifindex` (protocol 0: it receives
// nothing), with PACKET_VNET_HDR and, if asked, PACKET_QDISC_BYPASS. Nothing ever waits on it,
// so the write-space wake-up each sent frame triggers finds no waiter and costs no lock.
// Returns the fd, or -1 with errno set.
int open_packet_tx_socket(int ifindex, bool qdisc_bypass) noexcept;

class AfPacketPort final : public Port {
 public:
  // Opens the socket bound to interface `name`, promiscuous, and brings the interface up.
  static std::unique_ptr<AfPacketPort> open(const std::string& name, std::string* error);
  ~AfPacketPort() override;

  uint32_t rx_burst(PacketPool& pool, PacketBatch& batch) noexcept override;
  uint32_t tx_burst(const TxItem* items, uint32_t n) noexcept override;
  int fd() const noexcept override { return fd_; }
  void collect_missed() noexcept override;
  std::string backend() const override { return ring_ ? "af_packet" : "af_packet-recvmmsg"; }

 private:
  AfPacketPort(std::string name, int fd, int tx_fd)
      : Port(std::move(name), PortKind::kAfPacket), fd_(fd), tx_fd_(tx_fd) {}
  bool map_ring() noexcept;
  // Up to `max` frames from the socket's queue (recvmmsg); returns those kept, and in *taken
  // (if given) how many left the queue.
  uint32_t rx_socket(PacketPool& pool, PacketBatch& batch, uint32_t max, uint32_t* taken) noexcept;
  uint32_t rx_ring(PacketPool& pool, PacketBatch& batch) noexcept;
  int fd_;                   // receives; the forwarding thread's epoll waits on it
  int tx_fd_;                // sends (see open_packet_tx_socket)
  uint8_t* ring_ = nullptr;  // the receive ring, or null
  uint32_t head_ = 0;        // the next slot to read
};

}  // namespace hvnet
