// TapPort: a TAP device the switch holds, with IFF_VNET_HDR and checksum/TSO offloads on, so a VM
// (or a namespace) can send GSO super-frames with partial checksums and they cross the switch
// intact. Used for VIFs (vif<domid>.<n>) and for internal ports (the host's own interface on a
// network). One read/write syscall per frame: the TAP interface offers no batch call.
#pragma once

#include <memory>
#include <string>

#include "io/port.h"

namespace hvnet {

class TapPort final : public Port {
 public:
  // Creates (or attaches to) the TAP named `name`, sets its MTU and brings it up.
  // On failure returns nullptr and sets *error.
  // `mac` ("" = keep the kernel's random address) becomes the device's MAC.
  static std::unique_ptr<TapPort> open(const std::string& name, PortKind kind, unsigned mtu,
                                       const std::string& mac, std::string* error);
  ~TapPort() override;

  uint32_t rx_burst(PacketPool& pool, PacketBatch& batch) noexcept override;
  uint32_t tx_burst(const TxItem* items, uint32_t n) noexcept override;
  int fd() const noexcept override { return fd_; }

 private:
  TapPort(std::string name, PortKind kind, int fd) : Port(std::move(name), kind), fd_(fd) {}
  int fd_;
};

}  // namespace hvnet
