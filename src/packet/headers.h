// Header views: bounds-checked, read-only views over Ethernet, 802.1Q, ARP, IPv4, IPv6 (with
// ICMPv6 neighbour discovery) and UDP headers inside a frame. A view never reads past the bytes it
// was given: parse_*() returns std::nullopt for a truncated or malformed header instead.
#pragma once

#include <cstdint>
#include <optional>

namespace hvnet {

inline constexpr uint16_t kEtherTypeIpv4 = 0x0800;
inline constexpr uint16_t kEtherTypeArp = 0x0806;
inline constexpr uint16_t kEtherTypeRarp = 0x8035;
inline constexpr uint16_t kEtherTypeVlan = 0x8100;
inline constexpr uint16_t kEtherTypeQinQ = 0x88a8;
inline constexpr uint16_t kEtherTypeIpv6 = 0x86dd;
inline constexpr uint16_t kEtherTypeSlow = 0x8809;  // LACP, marker
inline constexpr uint32_t kEthHdrLen = 14;
inline constexpr uint32_t kVlanTagLen = 4;

inline uint16_t load_be16(const uint8_t* p) noexcept {
  return uint16_t((p[0] << 8) | p[1]);
}
inline uint32_t load_be32(const uint8_t* p) noexcept {
  return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | p[3];
}
inline void store_be16(uint8_t* p, uint16_t v) noexcept {
  p[0] = uint8_t(v >> 8);
  p[1] = uint8_t(v);
}
inline void store_be32(uint8_t* p, uint32_t v) noexcept {
  store_be16(p, uint16_t(v >> 16));
  store_be16(p + 2, uint16_t(v));
}

// Ethernet with at most one 802.1Q/802.1ad tag.
struct EthView {
  const uint8_t* dst;
  const uint8_t* src;
  bool tagged;
  uint16_t tpid;       // 0x8100/0x88a8 when tagged
  uint16_t tci;        // PCP/DEI/VID when tagged
  uint16_t ethertype;  // inner EtherType
  uint32_t hdr_len;    // 14 or 18
  uint16_t vid() const noexcept { return tci & 0x0fff; }
};

enum class EthParseError : uint8_t { kNone, kRunt, kTruncatedTag };

inline EthParseError parse_eth(const uint8_t* p, uint32_t len, EthView& v) noexcept {
  if (len < kEthHdrLen) return EthParseError::kRunt;
  v.dst = p;
  v.src = p + 6;
  uint16_t et = load_be16(p + 12);
  if (et == kEtherTypeVlan || et == kEtherTypeQinQ) {
    if (len < kEthHdrLen + kVlanTagLen) return EthParseError::kTruncatedTag;
    v.tagged = true;
    v.tpid = et;
    v.tci = load_be16(p + 14);
    v.ethertype = load_be16(p + 16);
    v.hdr_len = kEthHdrLen + kVlanTagLen;
  } else {
    v.tagged = false;
    v.tpid = 0;
    v.tci = 0;
    v.ethertype = et;
    v.hdr_len = kEthHdrLen;
  }
  return EthParseError::kNone;
}

// ARP for IPv4 over Ethernet (htype 1, ptype 0x0800, hlen 6, plen 4).
struct ArpView {
  uint16_t op;
  const uint8_t* sha;
  uint32_t spa;
  const uint8_t* tha;
  uint32_t tpa;
};
inline std::optional<ArpView> parse_arp(const uint8_t* p, uint32_t len) noexcept {
  if (len < 28) return std::nullopt;
  if (load_be16(p) != 1 || load_be16(p + 2) != kEtherTypeIpv4 || p[4] != 6 || p[5] != 4)
    return std::nullopt;
  return ArpView{load_be16(p + 6), p + 8, load_be32(p + 14), p + 18, load_be32(p + 24)};
}

struct Ipv4View {
  uint32_t src;
  uint32_t dst;
  uint8_t proto;
  uint32_t ihl_bytes;
  uint16_t total_len;
  bool is_fragment;  // MF set or offset != 0
};
inline std::optional<Ipv4View> parse_ipv4(const uint8_t* p, uint32_t len) noexcept {
  if (len < 20 || (p[0] >> 4) != 4) return std::nullopt;
  uint32_t ihl = uint32_t(p[0] & 0x0f) * 4;
  if (ihl < 20 || ihl > len) return std::nullopt;
  uint16_t frag = load_be16(p + 6);
  return Ipv4View{load_be32(p + 12), load_be32(p + 16),   p[9], ihl,
                  load_be16(p + 4),  (frag & 0x3fff) != 0};
}

struct Ipv6View {
  const uint8_t* src;  // 16 bytes
  const uint8_t* dst;  // 16 bytes
  uint8_t next_header;
  uint16_t payload_len;
};
inline constexpr uint32_t kIpv6HdrLen = 40;
inline std::optional<Ipv6View> parse_ipv6(const uint8_t* p, uint32_t len) noexcept {
  if (len < kIpv6HdrLen || (p[0] >> 4) != 6) return std::nullopt;
  return Ipv6View{p + 8, p + 24, p[6], load_be16(p + 4)};
}

// ICMPv6 neighbour discovery: type, the target of NS/NA, and the link-layer address option.
inline constexpr uint8_t kIcmpv6RouterSolicit = 133;
inline constexpr uint8_t kIcmpv6RouterAdvert = 134;
inline constexpr uint8_t kIcmpv6NeighSolicit = 135;
inline constexpr uint8_t kIcmpv6NeighAdvert = 136;
inline constexpr uint8_t kIcmpv6Redirect = 137;
struct NdView {
  uint8_t type;
  const uint8_t* target;  // NS/NA only, else nullptr
  const uint8_t* lladdr;  // source (NS) or target (NA) link-layer option, nullptr if absent
};
inline std::optional<NdView> parse_icmpv6_nd(const uint8_t* p, uint32_t len) noexcept {
  if (len < 4) return std::nullopt;
  NdView v{p[0], nullptr, nullptr};
  if (v.type != kIcmpv6NeighSolicit && v.type != kIcmpv6NeighAdvert) return v;
  if (len < 24) return std::nullopt;
  v.target = p + 8;
  uint32_t off = 24;
  while (off + 2 <= len) {
    uint32_t opt_len = uint32_t(p[off + 1]) * 8;
    if (opt_len == 0 || off + opt_len > len) return std::nullopt;
    if ((p[off] == 1 || p[off] == 2) && opt_len >= 8) v.lladdr = p + off + 2;
    off += opt_len;
  }
  return v;
}

struct UdpView {
  uint16_t src_port;
  uint16_t dst_port;
  uint16_t length;
};
inline std::optional<UdpView> parse_udp(const uint8_t* p, uint32_t len) noexcept {
  if (len < 8) return std::nullopt;
  return UdpView{load_be16(p), load_be16(p + 2), load_be16(p + 4)};
}

}  // namespace hvnet
