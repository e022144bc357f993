// VLAN egress rule: how a frame that arrived with tag state (tagged?, VID) must be rewritten to
// leave through a logical port carrying `out_tag` (0 = untagged). Priority bits are kept.
#pragma once

#include "io/port.h"
#include "packet/packet.h"

namespace hvnet {

struct VlanRewrite {
  VlanOp op;
  uint16_t tci;
};

inline VlanRewrite vlan_egress(const Packet& p, uint16_t out_tag) noexcept {
  const bool wire_tagged = p.l2_len == 18;
  const uint16_t tci = uint16_t((p.pcp << 13) | out_tag);
  if (out_tag == 0) return {wire_tagged ? VlanOp::kPop : VlanOp::kKeep, 0};
  if (!wire_tagged) return {VlanOp::kPush, tci};
  if (p.vid == out_tag) return {VlanOp::kKeep, 0};
  return {VlanOp::kRetag, tci};
}

}  // namespace hvnet
