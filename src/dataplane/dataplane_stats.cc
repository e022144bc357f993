#include "dataplane/dataplane_stats.h"

namespace hvnet {

const char* drop_reason_name(DropReason r) noexcept {
  switch (r) {
    case DropReason::kRunt:
      return "runt";
    case DropReason::kTruncatedTag:
      return "truncated_vlan_tag";
    case DropReason::kSTagged:
      return "s_tagged";
    case DropReason::kBadSourceMac:
      return "bad_source_mac";
    case DropReason::kVlanNotAllowed:
      return "vlan_tag_on_access_port";
    case DropReason::kVlanUnknown:
      return "vlan_unknown";
    case DropReason::kVlanNotInTrunk:
      return "vlan_not_in_trunk";
    case DropReason::kNoNetwork:
      return "no_network";
    case DropReason::kMtuExceeded:
      return "mtu_exceeded";
    case DropReason::kHairpin:
      return "hairpin";
    case DropReason::kNoDestination:
      return "no_destination";
    case DropReason::kTxFailed:
      return "tx_failed";
    case DropReason::kPoolExhausted:
      return "pool_exhausted";
    case DropReason::kBondLoop:
      return "bond_loop";
    case DropReason::kLockDisabled:
      return "lock_disabled";
    case DropReason::kLockMac:
      return "lock_mac";
    case DropReason::kLockNoIp:
      return "lock_no_ip";
    case DropReason::kLockArp:
      return "lock_arp";
    case DropReason::kLockIpv4:
      return "lock_ipv4";
    case DropReason::kLockIpv6:
      return "lock_ipv6";
    case DropReason::kLockNd:
      return "lock_nd";
    case DropReason::kLockRa:
      return "lock_ra";
    case DropReason::kLockEthertype:
      return "lock_ethertype";
    case DropReason::kIsolated:
      return "isolated";
    case DropReason::kCount:
      break;
  }
  return "unknown";
}

}  // namespace hvnet
