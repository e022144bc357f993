// FNV-1a, the small non-cryptographic hash hvnet uses where a stable number must come from a name
// (LACP port numbers from member names, metrics uuids from PIF uuids).
#pragma once

#include <cstdint>
#include <string_view>

namespace hvnet {

constexpr uint32_t fnv1a32(std::string_view s) {
  uint32_t h = 2166136261u;
  for (unsigned char c : s) h = (h ^ c) * 16777619u;
  return h;
}

// `basis`: FNV's offset basis, or another one for a second, independent lane.
constexpr uint64_t fnv1a64(std::string_view s, uint64_t basis = 0xcbf29ce484222325ull) {
  uint64_t h = basis;
  for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ull;
  return h;
}

}  // namespace hvnet
