// TapPort: a TAP device the switch holds, with IFF_VNET_HDR and checksum/TSO offloads on, so a VM
// (or a namespace) can send GSO super-frames with partial checksums and they cross the switch
// intact. Used for VIFs (vif<domid>.<n>) and for internal ports (the host's own interface on a
// network). A TAP has no batch call of its own, so a batch of reads or writes goes through an
// io_uring (one syscall per batch); where io_uring is unavailable, one readv/writev per frame.
#pragma once

#include <liburing.h>

#include <memory>
#include <string>

#include "io/port.h"

namespace hvnet {

class TapPort final : public Port {
 public:
  // Creates (or attaches to) the TAP named `name`, sets its MTU and brings it up.
  // On failure returns nullptr and sets *error.
  // `mac` ("" = keep the kernel's random address) becomes the device's MAC.
  //
  // The device is persistent (IFF_PERSIST): it belongs to the VM, not to this process. If hvnetd
  // dies, the VM keeps its NIC with its addresses and routes (and, for a VIF while a
  // CarrierKeeper is installed, its carrier: no link event at all), and the next hvnetd attaches to
  // the same device, also when the device has been moved into a named network namespace
  // (/run/netns/*, as `ip netns` makes them): no device is removed or re-created, so forwarding
  // resumes as soon as the data plane is up.
  static std::unique_ptr<TapPort> open(const std::string& name, PortKind kind, unsigned mtu,
                                       const std::string& mac, std::string* error);
  // Closing a port removes its device (VIF unplugged), unless the process is going away:
  // keep_devices_on_close(true) before a clean exit leaves every TAP for the next hvnetd.
  static void keep_devices_on_close(bool keep) noexcept;
  ~TapPort() override;

  uint32_t rx_burst(PacketPool& pool, PacketBatch& batch) noexcept override;
  uint32_t tx_burst(const TxItem* items, uint32_t n) noexcept override;
  int fd() const noexcept override { return fd_; }
  std::string backend() const override;

 private:
  static std::unique_ptr<TapPort> open_here(const std::string& name, PortKind kind, unsigned mtu,
                                            const std::string& mac, std::string* error);
  TapPort(std::string name, PortKind kind, int fd);
  uint32_t rx_each(PacketPool& pool, PacketBatch& batch) noexcept;
  uint32_t tx_each(const TxItem* items, uint32_t n) noexcept;
  uint32_t rx_ring(PacketPool& pool, PacketBatch& batch) noexcept;
  uint32_t tx_ring(const TxItem* items, uint32_t n) noexcept;
  // Submits the `n` prepared requests (user data = their index), waits for all of them (they
  // complete inside the call: RWF_NOWAIT) and stores each result in res[index].
  static void run_ring(io_uring& ring, uint32_t n, int32_t* res) noexcept;

  int fd_;
  std::string keeper_key_;  // the keeper holds a detached queue of this device under this key
  // One ring to receive (the owning thread's) and one to send (any thread's, under the tx lock).
  io_uring ring_{};
  io_uring tx_ring_{};
  bool ring_ok_ = false;
  // Reads to offer next time: grows while every read finds a frame, shrinks to what arrived, so
  // an idle TAP costs one failed read per poll, not a batch of them.
  uint32_t rx_reads_ = 1;
};

}  // namespace hvnet
