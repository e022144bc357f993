// The L3/L4 flow of a frame as one of 256 buckets: addresses and TCP/UDP ports, falling back to
// MACs for other traffic. Bonds spread flows over members with it (tcpudp_ports), tunnel ports
// over UDP source ports. Pure, inline, bounds-checked.
#pragma once

#include <cstdint>

#include "packet/headers.h"
#include "packet/mac.h"
#include "util/mix64.h"

namespace hvnet {

// Flow hash over the frame at `p` (l2_len bytes of Ethernet/802.1Q header).
inline uint8_t l34_bucket(const uint8_t* p, uint32_t len, uint32_t l2_len) noexcept {
  uint64_t h = mac_u64_at(p) ^ (mac_u64_at(p + 6) << 1);
  if (len < l2_len) return uint8_t(mix64(h));
  const uint16_t et = load_be16(p + l2_len - 2);
  const uint8_t* l3 = p + l2_len;
  const uint32_t l3len = len - l2_len;
  uint8_t proto = 0;
  const uint8_t* l4 = nullptr;
  uint32_t l4len = 0;
  if (et == kEtherTypeIpv4) {
    if (auto ip = parse_ipv4(l3, l3len)) {
      h = (uint64_t(ip->src) << 32 | ip->dst) ^ ip->proto;
      proto = ip->proto;
      if (!ip->is_fragment) {
        l4 = l3 + ip->ihl_bytes;
        l4len = l3len - ip->ihl_bytes;
      }
    }
  } else if (et == kEtherTypeIpv6) {
    if (auto ip = parse_ipv6(l3, l3len)) {
      h = 0;
      for (int i = 0; i < 16; i += 8)
        h ^= mix64(uint64_t(load_be32(ip->src + i)) << 32 | load_be32(ip->src + i + 4)) ^
             mix64(uint64_t(load_be32(ip->dst + i)) << 32 | load_be32(ip->dst + i + 4));
      proto = ip->next_header;
      l4 = l3 + kIpv6HdrLen;
      l4len = l3len - kIpv6HdrLen;
    }
  }
  if (l4 && (proto == 6 || proto == 17) && l4len >= 4)
    h ^= uint64_t(load_be16(l4)) << 16 | load_be16(l4 + 2);
  return uint8_t(mix64(h));
}

}  // namespace hvnet
