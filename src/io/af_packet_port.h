// AfPacketPort: a PIF (a NIC or a veth) driven through an AF_PACKET socket with PACKET_VNET_HDR,
// batched with recvmmsg/sendmmsg (one syscall per batch). VLAN tags the kernel strips into
// metadata (PACKET_AUXDATA) are put back into the frame so the switch sees what was on the wire.
#pragma once

#include <memory>
#include <string>

#include "io/port.h"

namespace hvnet {

// Sends frames (vnet header first, so offloads pass to the kernel) on a bound AF_PACKET socket
// with PACKET_VNET_HDR, one sendmmsg per batch. Returns how many the kernel took.
uint32_t packet_socket_send(int fd, const TxItem* items, uint32_t n) noexcept;

class AfPacketPort final : public Port {
 public:
  // Opens the socket bound to interface `name`, promiscuous, and brings the interface up.
  static std::unique_ptr<AfPacketPort> open(const std::string& name, std::string* error);
  ~AfPacketPort() override;

  uint32_t rx_burst(PacketPool& pool, PacketBatch& batch) noexcept override;
  uint32_t tx_burst(const TxItem* items, uint32_t n) noexcept override;
  int fd() const noexcept override { return fd_; }

 private:
  AfPacketPort(std::string name, int fd) : Port(std::move(name), PortKind::kAfPacket), fd_(fd) {}
  int fd_;
};

}  // namespace hvnet
