// Ingress stage: parses the Ethernet/802.1Q header of a received frame, maps (port, VID) to the
// logical port and bridge it belongs to, and enforces the network MTU (for GSO super-frames, the
// size of each segment). Returns the reason to drop, or nullopt to go on. Never touches the
// payload.
#pragma once

#include <optional>

#include "dataplane/dataplane_stats.h"
#include "dataplane/snapshot.h"
#include "packet/headers.h"
#include "packet/mac.h"

namespace hvnet {

// The IP and TCP/UDP header length of a GSO packet at `l3` (0 if it is not one we can read):
// what each of its segments repeats.
inline uint32_t gso_headers_len(const uint8_t* l3, uint32_t len) noexcept {
  if (len < 20) return 0;
  uint32_t l4 = 0;
  uint8_t proto = 0;
  if ((l3[0] >> 4) == 4) {
    l4 = (l3[0] & 0x0f) * 4u;
    proto = l3[9];
  } else if ((l3[0] >> 4) == 6 && len >= 40) {
    l4 = 40;
    proto = l3[6];
  } else {
    return 0;
  }
  if (proto == 17) return l4 + 8 <= len ? l4 + 8 : 0;
  if (proto != 6 || l4 + 20 > len) return 0;
  const uint32_t h = l4 + (l3[l4 + 12] >> 4) * 4u;
  return h <= len ? h : 0;
}

inline std::optional<DropReason> ingress_classify(const Snapshot& s, const PortEntry& pe,
                                                  Packet& p) noexcept {
  EthView eth;
  switch (parse_eth(p.data, p.len, eth)) {
    case EthParseError::kRunt:
      return DropReason::kRunt;
    case EthParseError::kTruncatedTag:
      return DropReason::kTruncatedTag;
    case EthParseError::kNone:
      break;
  }
  if ((eth.src[0] & 1) || mac_u64_at(eth.src) == 0) return DropReason::kBadSourceMac;
  // An 802.1ad S-tag names a service VLAN of a provider bridge, which hvnet is not: such a frame
  // belongs to no network here, on a trunk or an access port alike (OVS without dot1q-tunnel
  // ports does not map it to a customer VLAN either). Dropped and counted, never half-forwarded.
  if (eth.tagged && eth.tpid == kEtherTypeQinQ) return DropReason::kSTagged;
  p.l2_len = uint16_t(eth.hdr_len);
  p.vid = eth.vid();
  p.pcp = uint16_t(eth.tci >> 13);

  LportId lp;
  if (p.vid == 0) {  // untagged or priority-tagged: VLAN 0 if the trunk has one, else native
    lp = eth.tagged && !pe.vid_map.empty() ? pe.vid_map[0] : kNoLport;
    if (lp == kNoLport) lp = pe.native_lport;
    if (lp == kNoLport) return DropReason::kNoNetwork;
  } else if (pe.role == PortRole::kAccess) {
    return DropReason::kVlanNotAllowed;
  } else {
    lp = pe.vid_map.empty() ? kNoLport : pe.vid_map[p.vid];
    if (lp == kNoLport)
      return pe.vif_trunk ? DropReason::kVlanNotInTrunk : DropReason::kVlanUnknown;
  }
  p.in_lport = lp;
  p.bridge = s.lports[lp].bridge;

  // MTU: the L3 packet (or each GSO segment of it) must fit the network's MTU.
  const uint32_t mtu = s.bridges[p.bridge].mtu;
  uint32_t l3 = p.len - p.l2_len;
  if (p.vnet.is_gso()) {
    // The headers measured in the frame: the kernel's hdr_len is only a hint (a GRO packet the
    // host forwards carries its whole linear part there).
    if (const uint32_t h = gso_headers_len(p.data + p.l2_len, p.len - p.l2_len))
      l3 = h + p.vnet.gso_size;
    else if (p.vnet.hdr_len > p.l2_len)
      l3 = uint32_t(p.vnet.hdr_len - p.l2_len) + p.vnet.gso_size;
  }
  if (l3 > mtu) return DropReason::kMtuExceeded;
  return std::nullopt;
}

}  // namespace hvnet
