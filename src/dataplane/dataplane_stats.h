// DataplaneStats: switch-wide counters, one per drop reason plus learning events.
// Written only by the forwarding thread (relaxed atomics), read by anyone.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>

namespace hvnet {

enum class DropReason : uint8_t {
  kRunt,            // shorter than an Ethernet header
  kTruncatedTag,    // 802.1Q EtherType but no room for the tag
  kSTagged,         // 802.1ad service tag (0x88a8): hvnet's VLANs are 802.1Q customer VLANs
  kBadSourceMac,    // multicast or all-zero source address
  kVlanNotAllowed,  // tagged frame on an access port
  kVlanUnknown,     // VID not carried by this trunk
  kVlanNotInTrunk,  // VID a VIF trunk does not carry (not in its network's trunk_VLANs)
  kNoNetwork,       // untagged frame on a trunk without a native network
  kMtuExceeded,     // payload larger than the network MTU
  kHairpin,         // destination is the port the frame came from
  kNoDestination,   // flood with no other port on the network
  kTxFailed,        // the output port refused the frame
  kPoolExhausted,   // no buffer to receive into
  kBondLoop,        // balance-slb: a local port's MAC came back in through the bond
  kLockDisabled,    // port locking: the VIF is disabled
  kLockMac,         // port locking: Ethernet source is not the VIF's MAC
  kLockNoIp,        // port locking: locked with no allowed address
  kLockArp,         // port locking: ARP sender MAC or IP not the VIF's
  kLockIpv4,        // port locking: IPv4 source not allowed
  kLockIpv6,        // port locking: IPv6 source not allowed
  kLockNd,          // port locking: neighbour discovery for an address not allowed
  kLockRa,          // port locking: router advertisement or redirect from a VM
  kLockEthertype,   // port locking: EtherType other than ARP/IPv4/IPv6
  kIsolated,        // a routed network's VM sent to another VM's port: they meet only routed
  kCount
};
const char* drop_reason_name(DropReason r) noexcept;

struct alignas(64) DataplaneStats {
  std::array<std::atomic<uint64_t>, size_t(DropReason::kCount)> drops{};
  std::atomic<uint64_t> forwarded{0}, flooded{0}, learned{0}, mac_moves{0}, mac_evictions{0},
      mac_expired{0};

  static void bump(std::atomic<uint64_t>& c, uint64_t by = 1) noexcept {
    c.store(c.load(std::memory_order_relaxed) + by, std::memory_order_relaxed);
  }
  void drop(DropReason r) noexcept { bump(drops[size_t(r)]); }
  uint64_t dropped(DropReason r) const noexcept {
    return drops[size_t(r)].load(std::memory_order_relaxed);
  }
};

}  // namespace hvnet
