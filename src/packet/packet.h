// Packet: one frame in a preallocated buffer, plus the metadata stages attach to it.
// A Packet is owned by exactly one PacketPool and never allocated or freed on its own; stages
// pass raw pointers inside a PacketBatch and must hand every packet back to the pool.
#pragma once

#include <cstdint>
#include <cstring>

#include "packet/vnet_hdr.h"

namespace hvnet {

using PortId = uint32_t;    // index of a port in the data-plane snapshot
using LportId = uint32_t;   // index of a logical port (port + VLAN) in the snapshot
using BridgeId = uint16_t;  // index of a bridge (network) in the snapshot
inline constexpr uint32_t kNoPort = 0xffffffffu;
inline constexpr uint32_t kNoLport = 0xffffffffu;
inline constexpr uint16_t kNoBridge = 0xffffu;

// Room in front of the frame so a VLAN tag can be re-inserted in place (AF_PACKET hands tags out
// of band) and a vnet header can be prepended.
inline constexpr uint32_t kHeadroom = 128;
// Large enough for a GSO super-frame (64 KiB of payload plus headers).
inline constexpr uint32_t kFrameCapacity = 65536 + 512;
inline constexpr uint32_t kBufferSize = kHeadroom + kFrameCapacity;

struct Packet {
  uint8_t* buf = nullptr;   // start of the buffer (kBufferSize bytes)
  uint8_t* data = nullptr;  // first byte of the Ethernet header
  uint32_t len = 0;         // frame length in bytes
  VnetHdr vnet{};           // offload metadata (checksum/GSO), all-zero when none

  // Filled by the ingress stage.
  PortId in_port = kNoPort;
  LportId in_lport = kNoLport;
  BridgeId bridge = kNoBridge;
  uint16_t l2_len = 0;  // 14 untagged, 18 with one 802.1Q tag
  uint16_t vid = 0;     // VID carried on the wire (0 = untagged or priority-tagged)
  uint16_t pcp = 0;     // priority bits of the tag, kept when re-tagging

  void reset() noexcept {
    data = buf + kHeadroom;
    len = 0;
    vnet = VnetHdr{};
    in_port = kNoPort;
    in_lport = kNoLport;
    bridge = kNoBridge;
    l2_len = 0;
    vid = 0;
    pcp = 0;
  }
  uint32_t headroom() const noexcept { return uint32_t(data - buf); }
  uint32_t tailroom() const noexcept { return kBufferSize - headroom() - len; }

  // Inserts a 4-byte 802.1Q tag after the MAC addresses, using headroom. Returns false if no room.
  bool insert_vlan_tag(uint16_t tpid, uint16_t tci) noexcept {
    if (headroom() < 4 || len < 12) return false;
    std::memmove(data - 4, data, 12);
    data -= 4;
    data[12] = uint8_t(tpid >> 8);
    data[13] = uint8_t(tpid);
    data[14] = uint8_t(tci >> 8);
    data[15] = uint8_t(tci);
    len += 4;
    vnet.shift(4);
    return true;
  }
};

}  // namespace hvnet
