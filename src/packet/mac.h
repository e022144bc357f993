// MacAddr: a 48-bit Ethernet address as a value type, with parsing and formatting.
// Parsing never throws: it returns std::nullopt for anything that is not "xx:xx:xx:xx:xx:xx".
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

namespace hvnet {

struct MacAddr {
  std::array<uint8_t, 6> b{};

  static MacAddr from_bytes(const uint8_t* p) noexcept {
    MacAddr m;
    std::memcpy(m.b.data(), p, 6);
    return m;
  }
  // Packs the address into the low 48 bits of an integer (network byte order semantics).
  uint64_t to_u64() const noexcept {
    return (uint64_t(b[0]) << 40) | (uint64_t(b[1]) << 32) | (uint64_t(b[2]) << 24) |
           (uint64_t(b[3]) << 16) | (uint64_t(b[4]) << 8) | uint64_t(b[5]);
  }
  static MacAddr from_u64(uint64_t v) noexcept {
    MacAddr m;
    for (int i = 5; i >= 0; --i) {
      m.b[i] = uint8_t(v & 0xff);
      v >>= 8;
    }
    return m;
  }
  bool is_multicast() const noexcept { return b[0] & 1; }
  bool is_broadcast() const noexcept { return to_u64() == 0xffffffffffffULL; }
  bool is_zero() const noexcept { return to_u64() == 0; }
  bool operator==(const MacAddr&) const = default;

  static std::optional<MacAddr> parse(std::string_view s) noexcept;
  std::string to_string() const;
};

// Reads a 48-bit address straight out of a frame as an integer (no MacAddr object).
inline uint64_t mac_u64_at(const uint8_t* p) noexcept {
  return (uint64_t(p[0]) << 40) | (uint64_t(p[1]) << 32) | (uint64_t(p[2]) << 24) |
         (uint64_t(p[3]) << 16) | (uint64_t(p[4]) << 8) | uint64_t(p[5]);
}

}  // namespace hvnet
