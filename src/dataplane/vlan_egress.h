// VLAN egress rule: how a frame that arrived with tag state (tagged?, VID) must be rewritten to
// leave through a logical port carrying `out_tag` (0 = untagged). Priority bits are kept.
#pragma once

#include "dataplane/lport_tag.h"
#include "io/port.h"
#include "packet/packet.h"

namespace hvnet {

struct VlanRewrite {
  VlanOp op;
  uint16_t tci;
};

inline VlanRewrite vlan_egress(const Packet& p, uint16_t out_tag) noexcept {
  const bool wire_tagged = p.l2_len == 18;
  if (out_tag == 0) return {wire_tagged ? VlanOp::kPop : VlanOp::kKeep, 0};
  const uint16_t vid = vlan_of_lport_tag(out_tag);
  const uint16_t tci = uint16_t((p.pcp << 13) | vid);
  if (!wire_tagged) return {VlanOp::kPush, tci};
  if (p.vid == vid) return {VlanOp::kKeep, 0};
  return {VlanOp::kRetag, tci};
}

}  // namespace hvnet
