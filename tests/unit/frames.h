// Test helpers: build Ethernet frames (optionally 802.1Q-tagged) byte by byte.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "packet/mac.h"

namespace hvnet::test {

inline uint64_t mac(const char* s) {
  return MacAddr::parse(s)->to_u64();
}

// A frame dst <- src with `ethertype`, `payload` bytes of filler, tagged with `vid` if >= 0.
inline std::vector<uint8_t> frame(const char* dst, const char* src, int vid = -1,
                                  uint32_t payload = 46, uint16_t ethertype = 0x0800,
                                  uint8_t pcp = 0) {
  std::vector<uint8_t> f;
  auto d = *MacAddr::parse(dst);
  auto s = *MacAddr::parse(src);
  f.insert(f.end(), d.b.begin(), d.b.end());
  f.insert(f.end(), s.b.begin(), s.b.end());
  if (vid >= 0) {
    uint16_t tci = uint16_t((pcp << 13) | vid);
    f.insert(f.end(), {0x81, 0x00, uint8_t(tci >> 8), uint8_t(tci)});
  }
  f.push_back(uint8_t(ethertype >> 8));
  f.push_back(uint8_t(ethertype));
  for (uint32_t i = 0; i < payload; ++i) f.push_back(uint8_t(i));
  return f;
}

// The VID of a frame's 802.1Q tag, or -1 if untagged.
inline int frame_vid(const std::vector<uint8_t>& f) {
  if (f.size() >= 18 && f[12] == 0x81 && f[13] == 0x00) return ((f[14] << 8) | f[15]) & 0xfff;
  return -1;
}

}  // namespace hvnet::test
