// The tag of a logical port, the one spelling of "which VLAN" the switch controller, the pipeline
// and bonds share.
#pragma once

#include <cstdint>

namespace hvnet {

// What a logical port carries on the wire: 0 = untagged (a port's native network), 1..4094 = that
// VID, kPriorityTagged = VLAN 0: frames with an 802.1Q header whose VID is 0 (802.1p priority
// only), as a Linux VLAN-0 device sends them. Untagged frames stay with the native network, and a
// priority-tagged frame goes to the native network when the trunk has no VLAN 0.
inline constexpr uint16_t kPriorityTagged = 0x1000;
constexpr uint16_t lport_tag_of_vlan(uint16_t vlan) {
  return vlan == 0 ? kPriorityTagged : vlan;
}
constexpr uint16_t vlan_of_lport_tag(uint16_t tag) {
  return tag & 0x0fff;
}

}  // namespace hvnet
