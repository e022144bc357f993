#include "packet/soft_gro.h"

#include <cstring>

#include "packet/headers.h"
#include "packet/soft_offload.h"

namespace hvnet::soft {

namespace {

constexpr uint8_t kTcpAck = 0x10, kTcpPsh = 0x08;
constexpr uint32_t kMaxMerged = 65535 - 128;  // stays a valid IPv4 total length

// Where a TCP segment's headers are, for a frame that may be merged.
struct Seg {
  uint32_t l3 = 0, l4 = 0, hdr = 0;  // offsets: IP header, TCP header, payload
  uint32_t payload = 0;
  bool ipv6 = false;
};

// True if the frame is a plain data segment (ACK, maybe PSH) of IPv4 without options or IPv6
// without extension headers, behind up to two VLAN tags, with a checksum that is right or still
// partial.
bool parse(const Packet& p, Seg& s) {
  const uint8_t* d = p.data;
  if (p.vnet.is_gso()) return false;
  s.l3 = l3_offset(d, p.len, &s.ipv6);
  if (s.l3 == 0) return false;
  if (!s.ipv6) {
    if (p.len < s.l3 + 20 + 20 || d[s.l3] != 0x45 || d[s.l3 + 9] != 6) return false;
    if ((load_be16(d + s.l3 + 6) & 0x3fff) != 0) return false;  // fragment
    if (s.l3 + load_be16(d + s.l3 + 2) != p.len) return false;  // padding or truncation
    s.l4 = s.l3 + 20;
  } else {
    if (p.len < s.l3 + kIpv6HdrLen + 20 || d[s.l3 + 6] != 6) return false;
    if (s.l3 + kIpv6HdrLen + load_be16(d + s.l3 + 4) != p.len) return false;
    s.l4 = s.l3 + kIpv6HdrLen;
  }
  const uint8_t* tcp = d + s.l4;
  if ((tcp[13] & ~kTcpPsh) != kTcpAck) return false;  // no SYN/FIN/RST/URG/ECE/CWR
  s.hdr = s.l4 + (tcp[12] >> 4) * 4u;
  if (s.hdr > p.len || s.hdr < s.l4 + 20 || s.hdr == p.len) return false;
  s.payload = p.len - s.hdr;
  if (p.vnet.flags & VnetHdr::kFlagNeedsCsum) {
    return p.vnet.csum_start == s.l4 && p.vnet.csum_offset == 16;
  }
  const uint32_t l4_len = p.len - s.l4;
  return csum_fold(csum_partial(tcp, l4_len, pseudo_header_sum(d + s.l3, s.ipv6, 6, l4_len))) == 0;
}

// True if `q` continues the stream `head` has gathered so far (`head_payload` bytes of `mss`).
bool continues(const Packet& head, const Seg& h, uint32_t head_payload, uint32_t mss,
               const Packet& q, const Seg& s) {
  const uint8_t* a = head.data;
  const uint8_t* b = q.data;
  if (s.l3 != h.l3 || s.hdr != h.hdr || s.ipv6 != h.ipv6 || s.payload > mss) return false;
  if (head_payload % mss != 0) return false;       // only the last segment may be short
  if (a[h.l4 + 13] & kTcpPsh) return false;        // a push ends the stream here
  if (std::memcmp(a, b, h.l3) != 0) return false;  // MACs, tag
  if (h.ipv6) {
    if (std::memcmp(a + h.l3, b + h.l3, 4) != 0 || std::memcmp(a + h.l3 + 6, b + h.l3 + 6, 34))
      return false;  // version/class/flow, next header/hop limit, addresses
  } else {
    if (a[h.l3 + 1] != b[h.l3 + 1] || a[h.l3 + 6] != b[h.l3 + 6] || a[h.l3 + 8] != b[h.l3 + 8] ||
        std::memcmp(a + h.l3 + 12, b + h.l3 + 12, 8) != 0)
      return false;  // TOS, DF, TTL, addresses
  }
  const uint8_t* ta = a + h.l4;
  const uint8_t* tb = b + h.l4;
  if (std::memcmp(ta, tb, 4) != 0 || std::memcmp(ta + 8, tb + 8, 4) != 0 ||
      std::memcmp(ta + 14, tb + 14, 2) != 0)
    return false;                                                           // ports, ack, window
  if (std::memcmp(ta + 20, tb + 20, h.hdr - h.l4 - 20) != 0) return false;  // options
  return load_be32(tb + 4) == load_be32(ta + 4) + head_payload;
}

// Turns the gathered head into a GSO frame with a partial checksum.
void finish(Packet& head, const Seg& h, uint32_t mss) {
  uint8_t* d = head.data;
  uint8_t* tcp = d + h.l4;
  const uint64_t pseudo = set_ip_lengths(d + h.l3, h.ipv6, h.l4 - h.l3, head.len - h.l4);
  store_be16(tcp + 16, uint16_t(~csum_fold(pseudo)));  // the pseudo-header sum, as offload wants
  head.vnet = VnetHdr{};
  head.vnet.flags = VnetHdr::kFlagNeedsCsum;
  head.vnet.csum_start = uint16_t(h.l4);
  head.vnet.csum_offset = 16;
  head.vnet.gso_type = h.ipv6 ? VnetHdr::kGsoTcpV6 : VnetHdr::kGsoTcpV4;
  head.vnet.gso_size = uint16_t(mss);
  head.vnet.hdr_len = uint16_t(h.hdr);
}

}  // namespace

uint32_t coalesce_tcp(PacketBatch& batch, PacketPool& pool) noexcept {
  uint32_t out = 0, folded = 0;
  uint32_t i = 0;
  while (i < batch.count) {
    Packet* head = batch.pkts[i++];
    batch.pkts[out++] = head;
    Seg h;
    if (!parse(*head, h)) continue;
    const uint32_t mss = h.payload;
    uint32_t gathered = h.payload;
    uint32_t merged = 0;
    Seg s;
    while (i < batch.count) {
      Packet* q = batch.pkts[i];
      if (!parse(*q, s) || !continues(*head, h, gathered, mss, *q, s)) break;
      if (head->len + s.payload > kMaxMerged || head->tailroom() < s.payload) break;
      std::memcpy(head->data + head->len, q->data + s.hdr, s.payload);
      head->len += s.payload;
      head->data[h.l4 + 13] |= q->data[s.l4 + 13] & kTcpPsh;
      gathered += s.payload;
      pool.free(q);
      ++merged;
      ++i;
    }
    if (merged) {
      finish(*head, h, mss);
      folded += merged;
    }
  }
  batch.count = out;
  return folded;
}

}  // namespace hvnet::soft
