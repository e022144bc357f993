// Hashes that spread a bond's traffic over its members: source MAC + VLAN (balance-slb and LACP
// with hashing_algorithm=src_mac) and the L3/L4 flow (tcpudp_ports: l34_bucket,
// packet/flow_hash.h). Pure, inline, bounds-checked; 256 buckets.
#pragma once

#include <cstdint>

#include "packet/flow_hash.h"
#include "util/mix64.h"

namespace hvnet {

inline uint8_t slb_bucket(uint64_t src_mac, uint16_t vid) noexcept {
  return uint8_t(mix64(src_mac ^ (uint64_t(vid) << 48)));
}

}  // namespace hvnet
