// VnetHdr: the virtio-net header that TAP (IFF_VNET_HDR) and AF_PACKET (PACKET_VNET_HDR) put in
// front of every frame: whether the checksum is still to be done and whether the frame is a GSO
// super-frame. Layout is the kernel's struct virtio_net_hdr (10 bytes, host byte order).
#pragma once

#include <cstdint>

namespace hvnet {

struct VnetHdr {
  static constexpr uint8_t kFlagNeedsCsum = 1;  // VIRTIO_NET_HDR_F_NEEDS_CSUM
  static constexpr uint8_t kFlagDataValid = 2;  // VIRTIO_NET_HDR_F_DATA_VALID
  static constexpr uint8_t kGsoNone = 0;
  static constexpr uint8_t kGsoTcpV4 = 1;
  static constexpr uint8_t kGsoUdp = 3;
  static constexpr uint8_t kGsoTcpV6 = 4;
  static constexpr uint8_t kGsoEcn = 0x80;

  uint8_t flags = 0;
  uint8_t gso_type = 0;
  uint16_t hdr_len = 0;
  uint16_t gso_size = 0;
  uint16_t csum_start = 0;
  uint16_t csum_offset = 0;

  bool is_gso() const noexcept { return (gso_type & ~kGsoEcn) != kGsoNone; }
  // Adjusts offsets after `delta` bytes were inserted (positive) or removed (negative) in front
  // of the L3 header, e.g. when a VLAN tag is pushed or popped.
  void shift(int delta) noexcept {
    if (flags & kFlagNeedsCsum) csum_start = uint16_t(csum_start + delta);
    if (hdr_len != 0) hdr_len = uint16_t(hdr_len + delta);
  }
};
static_assert(sizeof(VnetHdr) == 10, "VnetHdr must match struct virtio_net_hdr");

}  // namespace hvnet
