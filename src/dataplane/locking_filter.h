// LockingFilter: switch-port locking (anti-spoofing) for frames a VM transmits, XenServer's rules:
//  - disabled: nothing passes;  unlocked: everything passes (with forged transmits rejected:
//    everything from the VIF's MAC);
//  - locked: Ethernet source must be the VIF's MAC; ARP only with sender MAC = VIF MAC and sender
//    IP allowed (or 0.0.0.0 probes); IPv4 only from allowed addresses (DHCP discovery from 0.0.0.0
//    allowed); IPv6 only from allowed addresses (:: for duplicate address detection and MLD),
//    neighbour advertisements only for allowed targets, solicitations only with the VIF's MAC as
//    source link-layer address, router advertisements and redirects dropped; no allowed address at
//    all: nothing passes. Other EtherTypes are dropped.
// The rules are an immutable value in the data-plane snapshot; check() is pure and allocation-free.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "dataplane/dataplane_stats.h"
#include "model/result.h"
#include "packet/packet.h"

namespace hvnet {

enum class LockingMode : uint8_t { kUnlocked, kLocked, kDisabled };

struct Ipv4Prefix {
  uint32_t addr;
  uint32_t mask;
  bool contains(uint32_t a) const noexcept { return (a & mask) == addr; }
};
struct Ipv6Prefix {
  std::array<uint8_t, 16> addr;
  uint8_t len;
  bool contains(const uint8_t* a) const noexcept;
};

struct LockingRules {
  LockingMode mode = LockingMode::kUnlocked;
  // The network's security policy rejects forged transmits: unlocked, the Ethernet source must
  // still be the VIF's MAC (lock_mac), the one check "locked" starts with.
  bool forged_reject = false;
  uint64_t mac = 0;
  std::vector<Ipv4Prefix> ipv4;
  std::vector<Ipv6Prefix> ipv6;

  // "10.0.0.1", "10.0.0.0/24", "2001:db8::1", "fe80::/64"; nullopt if malformed.
  static std::optional<Ipv4Prefix> parse_ipv4(const std::string& s);
  static std::optional<Ipv6Prefix> parse_ipv6(const std::string& s);
  // Builds rules, or INVALID_IP_ADDRESS_SPECIFIED [field] for a malformed address.
  static Result<LockingRules> make(LockingMode mode, uint64_t mac,
                                   const std::vector<std::string>& ipv4,
                                   const std::vector<std::string>& ipv6);

  // The reason to drop a frame the VM sent, or nullopt to let it through.
  std::optional<DropReason> check(const Packet& p) const noexcept;
};

}  // namespace hvnet
