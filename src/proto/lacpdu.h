// LACPDU and Marker PDU codec (IEEE 802.1AX, Slow Protocols EtherType 0x8809): 110-byte payloads
// with actor/partner/collector TLVs. Pure functions over byte buffers: decode never reads past the
// given length and rejects malformed PDUs; nothing here does I/O or keeps state.
#pragma once

#include <array>
#include <cstdint>
#include <optional>

namespace hvnet::proto {

inline constexpr std::array<uint8_t, 6> kSlowProtocolsMac = {0x01, 0x80, 0xc2, 0x00, 0x00, 0x02};
inline constexpr uint16_t kEtherTypeSlow = 0x8809;
inline constexpr uint8_t kSubtypeLacp = 1;
inline constexpr uint8_t kSubtypeMarker = 2;
inline constexpr uint32_t kLacpduLen = 110;  // payload after the Ethernet header

// Actor/partner state bits.
enum LacpState : uint8_t {
  kStateActivity = 1 << 0,
  kStateTimeout = 1 << 1,  // short (fast) timeout
  kStateAggregation = 1 << 2,
  kStateSync = 1 << 3,
  kStateCollecting = 1 << 4,
  kStateDistributing = 1 << 5,
  kStateDefaulted = 1 << 6,
  kStateExpired = 1 << 7,
};

struct LacpInfo {
  uint16_t sys_priority = 0;
  std::array<uint8_t, 6> sys_mac{};
  uint16_t key = 0;
  uint16_t port_priority = 0;
  uint16_t port = 0;
  uint8_t state = 0;
  bool operator==(const LacpInfo&) const = default;
  // The same aggregation partner: system and key (state bits aside).
  bool same_system(const LacpInfo& o) const {
    return sys_priority == o.sys_priority && sys_mac == o.sys_mac && key == o.key;
  }
};

struct Lacpdu {
  LacpInfo actor;
  LacpInfo partner;
  uint16_t collector_max_delay = 0;
};

struct MarkerPdu {
  bool response = false;  // TLV type 2 (response) or 1 (information/request)
  uint16_t requester_port = 0;
  std::array<uint8_t, 6> requester_system{};
  uint32_t transaction_id = 0;
};

// Writes the 110-byte payload into out (which must hold kLacpduLen bytes).
void encode_lacpdu(const Lacpdu& pdu, uint8_t* out);
std::optional<Lacpdu> decode_lacpdu(const uint8_t* payload, uint32_t len);
void encode_marker(const MarkerPdu& pdu, uint8_t* out);
std::optional<MarkerPdu> decode_marker(const uint8_t* payload, uint32_t len);

}  // namespace hvnet::proto
