// EgressFrame: the scatter list for one outgoing frame: the original buffer with a VLAN tag pushed,
// popped or rewritten by splicing iovecs, never by copying or touching the shared packet (one
// packet may be flooded to ports that want it tagged differently). Offload offsets move with the
// tag.
#pragma once

#include <sys/uio.h>

#include <cstdint>

#include "io/port.h"
#include "packet/headers.h"

namespace hvnet {

// The Ethernet minimum without FCS: what a physical switch expects of frames it receives.
inline constexpr uint32_t kEthMinFrame = 60;

struct EgressFrame {
  VnetHdr vnet;
  uint8_t tag[4];
  iovec iov[5];  // [0] is the vnet header, frame pieces follow, then padding
  int iov_count;
  uint32_t frame_len;

  // Builds the scatter list, padded with zeros to `pad_to` bytes (kEthMinFrame on wires to
  // physical switches; 0 on VIFs, whose guests take short frames). Zeros leave any checksum the
  // offload still has to complete unchanged. Returns false if the frame cannot take the
  // operation (no tag to pop).
  bool build(const TxItem& it, uint32_t pad_to = 0) noexcept {
    if (!splice(it)) return false;
    if (pad_to > kEthMinFrame) pad_to = kEthMinFrame;
    if (frame_len < pad_to) {
      static const uint8_t zeros[kEthMinFrame] = {};
      iov[iov_count++] = {const_cast<uint8_t*>(zeros), pad_to - frame_len};
      frame_len = pad_to;
    }
    return true;
  }

 private:
  bool splice(const TxItem& it) noexcept {
    const Packet& p = *it.pkt;
    vnet = p.vnet;
    iov[0] = {&vnet, sizeof(VnetHdr)};
    uint8_t* d = p.data;
    const bool tagged = p.len >= 18 && (load_be16(d + 12) == kEtherTypeVlan);
    switch (it.op) {
      case VlanOp::kKeep:
        iov[1] = {d, p.len};
        iov_count = 2;
        frame_len = p.len;
        return true;
      case VlanOp::kPush:
        store_be16(tag, kEtherTypeVlan);
        store_be16(tag + 2, it.tci);
        iov[1] = {d, 12};
        iov[2] = {tag, 4};
        iov[3] = {d + 12, p.len - 12};
        iov_count = 4;
        frame_len = p.len + 4;
        vnet.shift(4);
        return true;
      case VlanOp::kPop:
        if (!tagged) return false;
        iov[1] = {d, 12};
        iov[2] = {d + 16, p.len - 16};
        iov_count = 3;
        frame_len = p.len - 4;
        vnet.shift(-4);
        return true;
      case VlanOp::kRetag:
        if (!tagged) return false;
        store_be16(tag, kEtherTypeVlan);
        store_be16(tag + 2, it.tci);
        iov[1] = {d, 12};
        iov[2] = {tag, 4};
        iov[3] = {d + 16, p.len - 16};
        iov_count = 4;
        frame_len = p.len;
        return true;
    }
    return false;
  }
};

// Builds the egress frames of `items` (padded to `pad_to`) a batch at a time (frames that cannot
// take their VLAN operation are skipped) and hands each batch to send(frames, count), which returns
// how many went out. Returns the total sent.
template <class Send>
uint32_t send_in_batches(const TxItem* items, uint32_t n, uint32_t pad_to, Send&& send) noexcept {
  EgressFrame frames[kBatchSize];
  uint32_t sent = 0;
  for (uint32_t base = 0; base < n; base += kBatchSize) {
    const uint32_t chunk = n - base < kBatchSize ? n - base : kBatchSize;
    uint32_t built = 0;
    for (uint32_t i = 0; i < chunk; ++i)
      if (frames[built].build(items[base + i], pad_to)) ++built;
    if (built) sent += send(frames, built);
  }
  return sent;
}

}  // namespace hvnet
