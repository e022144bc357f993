// Test helpers: TCP frames as the kernel hands them over with offloads (partial checksum, GSO
// fields), and an independent checksum check.
#pragma once

#include <cstdint>
#include <vector>

#include "packet/vnet_hdr.h"

namespace hvnet::test {

// Straightforward 16-bit ones' complement sum, independent of the code under test.
inline uint32_t sum16(const uint8_t* p, size_t n, uint32_t acc = 0) {
  for (size_t i = 0; i + 1 < n; i += 2) acc += uint32_t(p[i]) << 8 | p[i + 1];
  if (n & 1) acc += uint32_t(p[n - 1]) << 8;
  return acc;
}
inline uint16_t fold(uint32_t acc) {
  while (acc >> 16) acc = (acc & 0xffff) + (acc >> 16);
  return uint16_t(acc);
}
inline void put16(uint8_t* p, uint16_t v) {
  p[0] = uint8_t(v >> 8);
  p[1] = uint8_t(v);
}
inline uint32_t get32(const uint8_t* p) {
  return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3];
}

struct Built {
  std::vector<uint8_t> frame;
  VnetHdr vnet;
  uint32_t l3, l4;
};

// A TCP frame as the kernel hands it over with offloads: checksum field = pseudo-header sum.
// `tags`: 0, 1 (802.1Q) or 2 (QinQ: an 802.1ad tag outside an 802.1Q one).
inline Built tcp_frame(bool ipv6, uint32_t payload, uint16_t mss, uint8_t flags, int tags = 0) {
  Built b;
  auto& f = b.frame;
  const uint8_t dst[6] = {2, 0, 0, 0, 0, 2}, src[6] = {2, 0, 0, 0, 0, 1};
  f.insert(f.end(), dst, dst + 6);
  f.insert(f.end(), src, src + 6);
  if (tags == 2) f.insert(f.end(), {0x88, 0xa8, 0x00, 0x64});
  if (tags >= 1) f.insert(f.end(), {0x81, 0x00, 0x00, 0x0a});
  f.push_back(ipv6 ? 0x86 : 0x08);
  f.push_back(ipv6 ? 0xdd : 0x00);
  b.l3 = uint32_t(f.size());
  const uint32_t tcp_len = 32;  // 20 + 12 bytes of options
  if (ipv6) {
    f.insert(f.end(), {0x60, 0, 0, 0});
    f.push_back(uint8_t((tcp_len + payload) >> 8));
    f.push_back(uint8_t(tcp_len + payload));
    f.insert(f.end(), {6, 64});
    for (int i = 0; i < 32; ++i) f.push_back(uint8_t(i < 16 ? 0x20 + i : 0x40 + i));
  } else {
    uint16_t tot = uint16_t(20 + tcp_len + payload);
    f.insert(f.end(), {0x45,
                       0,
                       uint8_t(tot >> 8),
                       uint8_t(tot),
                       0x12,
                       0x34,
                       0x40,
                       0,
                       64,
                       6,
                       0,
                       0,
                       10,
                       0,
                       0,
                       1,
                       10,
                       0,
                       0,
                       2});
    put16(&f[b.l3 + 10], uint16_t(~fold(sum16(&f[b.l3], 20))));
  }
  b.l4 = uint32_t(f.size());
  f.insert(f.end(), {0x30, 0x39, 0x00, 0x50,  0x10, 0x00, 0x00, 0x00, 0, 0,
                     0,    1,    0x80, flags, 0xff, 0xff, 0,    0,    0, 0});
  for (int i = 0; i < 12; ++i) f.push_back(1);  // NOP options
  for (uint32_t i = 0; i < payload; ++i) f.push_back(uint8_t(i * 7 + 3));
  uint32_t l4_len = uint32_t(f.size()) - b.l4;
  uint32_t pseudo = ipv6 ? sum16(&f[b.l3 + 8], 32) : sum16(&f[b.l3 + 12], 8);
  pseudo += 6 + l4_len;
  put16(&f[b.l4 + 16], fold(pseudo));  // partial: the folded pseudo-header sum, not complemented
  b.vnet.flags = VnetHdr::kFlagNeedsCsum;
  b.vnet.csum_start = uint16_t(b.l4);
  b.vnet.csum_offset = 16;
  if (mss) {
    b.vnet.gso_type = ipv6 ? VnetHdr::kGsoTcpV6 : VnetHdr::kGsoTcpV4;
    b.vnet.gso_size = mss;
    b.vnet.hdr_len = uint16_t(b.l4 + tcp_len);
  }
  return b;
}

inline bool tcp_checksum_ok(const uint8_t* f, uint32_t len, uint32_t l3, uint32_t l4, bool ipv6) {
  uint32_t acc = ipv6 ? sum16(f + l3 + 8, 32) : sum16(f + l3 + 12, 8);
  acc += 6 + (len - l4);
  return fold(sum16(f + l4, len - l4, acc)) == 0xffff;
}
}  // namespace hvnet::test
