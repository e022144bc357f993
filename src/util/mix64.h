// A 64-bit finaliser (MurmurHash3's fmix64): spreads every input bit over the output, for hashes
// of keys that differ in a few bits (MACs, flow tuples) into buckets and table slots.
#pragma once

#include <cstdint>

namespace hvnet {

inline uint64_t mix64(uint64_t x) noexcept {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  x ^= x >> 33;
  return x;
}

}  // namespace hvnet
