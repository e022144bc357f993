#include "proto/lacpdu.h"

#include <cstring>

namespace hvnet::proto {

namespace {

void put16(uint8_t* p, uint16_t v) {
  p[0] = uint8_t(v >> 8);
  p[1] = uint8_t(v);
}
uint16_t get16(const uint8_t* p) {
  return uint16_t((p[0] << 8) | p[1]);
}

void put_info(uint8_t* p, uint8_t type, const LacpInfo& i) {
  p[0] = type;
  p[1] = 20;
  put16(p + 2, i.sys_priority);
  std::memcpy(p + 4, i.sys_mac.data(), 6);
  put16(p + 10, i.key);
  put16(p + 12, i.port_priority);
  put16(p + 14, i.port);
  p[16] = i.state;
  p[17] = p[18] = p[19] = 0;
}

LacpInfo get_info(const uint8_t* p) {
  LacpInfo i;
  i.sys_priority = get16(p + 2);
  std::memcpy(i.sys_mac.data(), p + 4, 6);
  i.key = get16(p + 10);
  i.port_priority = get16(p + 12);
  i.port = get16(p + 14);
  i.state = p[16];
  return i;
}

}  // namespace

void encode_lacpdu(const Lacpdu& pdu, uint8_t* out) {
  std::memset(out, 0, kLacpduLen);
  out[0] = kSubtypeLacp;
  out[1] = 1;  // version
  put_info(out + 2, 1, pdu.actor);
  put_info(out + 22, 2, pdu.partner);
  out[42] = 3;  // collector TLV
  out[43] = 16;
  put16(out + 44, pdu.collector_max_delay);
  // out[58..59]: terminator TLV (type 0, length 0); the rest is reserved padding.
}

std::optional<Lacpdu> decode_lacpdu(const uint8_t* p, uint32_t len) {
  if (len < 60 || p[0] != kSubtypeLacp || p[1] < 1) return std::nullopt;
  if (p[2] != 1 || p[3] != 20 || p[22] != 2 || p[23] != 20 || p[42] != 3 || p[43] != 16)
    return std::nullopt;
  Lacpdu pdu;
  pdu.actor = get_info(p + 2);
  pdu.partner = get_info(p + 22);
  pdu.collector_max_delay = get16(p + 44);
  return pdu;
}

void encode_marker(const MarkerPdu& m, uint8_t* out) {
  std::memset(out, 0, kLacpduLen);
  out[0] = kSubtypeMarker;
  out[1] = 1;
  out[2] = m.response ? 2 : 1;
  out[3] = 16;
  put16(out + 4, m.requester_port);
  std::memcpy(out + 6, m.requester_system.data(), 6);
  out[12] = uint8_t(m.transaction_id >> 24);
  out[13] = uint8_t(m.transaction_id >> 16);
  out[14] = uint8_t(m.transaction_id >> 8);
  out[15] = uint8_t(m.transaction_id);
}

std::optional<MarkerPdu> decode_marker(const uint8_t* p, uint32_t len) {
  if (len < 18 || p[0] != kSubtypeMarker || (p[2] != 1 && p[2] != 2) || p[3] != 16)
    return std::nullopt;
  MarkerPdu m;
  m.response = p[2] == 2;
  m.requester_port = get16(p + 4);
  std::memcpy(m.requester_system.data(), p + 6, 6);
  m.transaction_id =
      (uint32_t(p[12]) << 24) | (uint32_t(p[13]) << 16) | (uint32_t(p[14]) << 8) | p[15];
  return m;
}

}  // namespace hvnet::proto
