#include "packet/soft_offload.h"

#include <cstring>

#include "packet/headers.h"

namespace hvnet::soft {

uint64_t csum_partial(const uint8_t* p, uint32_t len, uint64_t sum) noexcept {
  // Sum 32-bit big-endian words into 64 bits; carries are folded at the end.
  while (len >= 4) {
    sum += load_be32(p);
    p += 4;
    len -= 4;
  }
  if (len >= 2) {
    sum += load_be16(p);
    p += 2;
    len -= 2;
  }
  if (len) sum += uint32_t(p[0]) << 8;
  return sum;
}

uint16_t csum_fold(uint64_t sum) noexcept {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return uint16_t(~sum);
}

uint64_t pseudo_header_sum(const uint8_t* ip, bool ipv6, uint8_t proto, uint32_t l4_len) noexcept {
  return (ipv6 ? csum_partial(ip + 8, 32, 0) : csum_partial(ip + 12, 8, 0)) + proto + l4_len;
}

uint64_t set_ip_lengths(uint8_t* ip, bool ipv6, uint32_t ip_hdr_len, uint32_t l4_len) noexcept {
  if (ipv6) {
    store_be16(ip + 4, uint16_t(l4_len));
  } else {
    store_be16(ip + 2, uint16_t(ip_hdr_len + l4_len));
    store_be16(ip + 10, 0);
    store_be16(ip + 10, csum_fold(csum_partial(ip, ip_hdr_len, 0)));
  }
  return pseudo_header_sum(ip, ipv6, 6, l4_len);
}

void gather(const FrameView& f, uint32_t off, uint32_t len, uint8_t* dst) noexcept {
  for (int i = 0; i < f.count && len > 0; ++i) {
    uint32_t piece = uint32_t(f.iov[i].iov_len);
    if (off >= piece) {
      off -= piece;
      continue;
    }
    uint32_t take = piece - off < len ? piece - off : len;
    std::memcpy(dst, static_cast<const uint8_t*>(f.iov[i].iov_base) + off, take);
    dst += take;
    len -= take;
    off = 0;
  }
}

uint32_t l3_offset(const uint8_t* hdr, uint32_t have, bool* ipv6) noexcept {
  uint32_t off = 12;
  for (int tags = 0; tags < 3 && off + 2 <= have; ++tags) {
    uint16_t et = load_be16(hdr + off);
    if (et == kEtherTypeVlan || et == kEtherTypeQinQ) {
      off += 4;
      continue;
    }
    if (et == kEtherTypeIpv4 || et == kEtherTypeIpv6) {
      *ipv6 = et == kEtherTypeIpv6;
      return off + 2;
    }
    return 0;
  }
  return 0;
}

bool mark_partial_checksum(const uint8_t* frame, uint32_t len, VnetHdr& vnet) noexcept {
  bool ipv6 = false;
  uint32_t l3 = l3_offset(frame, len < 64 ? len : 64, &ipv6);
  if (l3 == 0) return false;
  uint32_t l4;
  uint8_t proto;
  // The L3 length must cover the frame exactly: a padded frame came from a wire, where checksums
  // are complete, and a partial sum would run over the padding.
  if (ipv6) {
    if (l3 + kIpv6HdrLen > len) return false;
    proto = frame[l3 + 6];
    l4 = l3 + kIpv6HdrLen;
    if (l4 + load_be16(frame + l3 + 4) != len) return false;
  } else {
    if (l3 + 20 > len || (load_be16(frame + l3 + 6) & 0x3fff) != 0) return false;  // fragments
    proto = frame[l3 + 9];
    l4 = l3 + (frame[l3] & 0x0f) * 4u;
    if (l3 + load_be16(frame + l3 + 2) != len || l4 > len) return false;
  }
  uint16_t field_off;
  if (proto == 6) {
    field_off = 16;
  } else if (proto == 17) {
    field_off = 6;
  } else {
    return false;
  }
  if (l4 + field_off + 2 > len) return false;
  const uint16_t field = load_be16(frame + l4 + field_off);
  if (proto == 17 && !ipv6 && field == 0) return false;  // UDP over IPv4 without a checksum
  const uint32_t l4_len = len - l4;
  const uint64_t pseudo = pseudo_header_sum(frame + l3, ipv6, proto, l4_len);
  if (field != uint16_t(~csum_fold(pseudo))) return false;
  if (csum_fold(csum_partial(frame + l4, l4_len, pseudo)) == 0) return false;  // already right
  vnet.flags |= VnetHdr::kFlagNeedsCsum;
  vnet.csum_start = uint16_t(l4);
  vnet.csum_offset = field_off;
  return true;
}

Plan plan(const VnetHdr& vnet, const FrameView& f) noexcept {
  Plan p{Plan::Kind::kCopy, 1};
  const bool needs_csum = vnet.flags & VnetHdr::kFlagNeedsCsum;
  if (!vnet.is_gso()) {
    if (!needs_csum) return p;
    if (uint32_t(vnet.csum_start) + vnet.csum_offset + 2 > f.len) {
      p.kind = Plan::Kind::kUnsupported;
      return p;
    }
    p.kind = Plan::Kind::kChecksum;
    return p;
  }
  p.kind = Plan::Kind::kUnsupported;
  const uint8_t type = vnet.gso_type & ~VnetHdr::kGsoEcn;
  if ((type != VnetHdr::kGsoTcpV4 && type != VnetHdr::kGsoTcpV6) || vnet.gso_size == 0) return p;
  uint8_t hdr[128];
  uint32_t have = f.len < sizeof hdr ? f.len : uint32_t(sizeof hdr);
  gather(f, 0, have, hdr);
  bool ipv6 = false;
  uint32_t l3 = l3_offset(hdr, have, &ipv6);
  if (l3 == 0 || ipv6 != (type == VnetHdr::kGsoTcpV6)) return p;
  uint32_t l4;
  if (ipv6) {
    if (l3 + kIpv6HdrLen + 20 > have || hdr[l3 + 6] != 6) return p;  // TCP right after IPv6
    l4 = l3 + kIpv6HdrLen;
  } else {
    if (l3 + 20 > have || hdr[l3 + 9] != 6) return p;
    l4 = l3 + (hdr[l3] & 0x0f) * 4u;
    if (l4 + 20 > have) return p;
  }
  uint32_t hlen = l4 + (hdr[l4 + 12] >> 4) * 4u;
  if (hlen > have || hlen > f.len) return p;
  uint32_t payload = f.len - hlen;
  p.kind = Plan::Kind::kSegmentTcp;
  p.l3_off = l3;
  p.l4_off = l4;
  p.hdr_len = hlen;
  p.mss = vnet.gso_size;
  p.ipv6 = ipv6;
  p.frames = payload == 0 ? 1 : (payload + p.mss - 1) / p.mss;
  return p;
}

uint32_t largest_frame(const Plan& plan, const FrameView& f) noexcept {
  if (plan.kind != Plan::Kind::kSegmentTcp) return f.len;
  const uint32_t payload = f.len - plan.hdr_len;
  return plan.hdr_len + (payload < plan.mss ? payload : plan.mss);
}

uint32_t write_frame(const Plan& plan, const VnetHdr& vnet, const FrameView& f, uint32_t index,
                     uint8_t* dst, uint32_t cap) noexcept {
  switch (plan.kind) {
    case Plan::Kind::kUnsupported:
      return 0;
    case Plan::Kind::kCopy:
      if (f.len > cap) return 0;
      gather(f, 0, f.len, dst);
      return f.len;
    case Plan::Kind::kChecksum: {
      if (f.len > cap) return 0;
      gather(f, 0, f.len, dst);
      uint32_t start = vnet.csum_start, at = start + vnet.csum_offset;
      uint16_t c = csum_fold(csum_partial(dst + start, f.len - start, 0));
      if (c == 0 && vnet.csum_offset == 6) c = 0xffff;  // UDP sends 0 as all ones
      store_be16(dst + at, c);
      return f.len;
    }
    case Plan::Kind::kSegmentTcp:
      break;
  }
  const uint32_t payload = f.len - plan.hdr_len;
  const uint32_t first = index * plan.mss;
  if (index >= plan.frames) return 0;
  const uint32_t seg = payload - first < plan.mss ? payload - first : plan.mss;
  const uint32_t len = plan.hdr_len + seg;
  if (len > cap) return 0;
  gather(f, 0, plan.hdr_len, dst);
  gather(f, plan.hdr_len + first, seg, dst + plan.hdr_len);

  uint8_t* ip = dst + plan.l3_off;
  uint8_t* tcp = dst + plan.l4_off;
  const uint32_t l4_len = len - plan.l4_off;
  if (!plan.ipv6) store_be16(ip + 4, uint16_t(load_be16(ip + 4) + index));  // IP ID
  const uint64_t pseudo = set_ip_lengths(ip, plan.ipv6, plan.l4_off - plan.l3_off, l4_len);
  uint32_t seq = load_be32(tcp + 4) + first;
  tcp[4] = uint8_t(seq >> 24);
  tcp[5] = uint8_t(seq >> 16);
  tcp[6] = uint8_t(seq >> 8);
  tcp[7] = uint8_t(seq);
  constexpr uint8_t kFin = 0x01, kPsh = 0x08, kCwr = 0x80;
  if (index + 1 < plan.frames) tcp[13] &= uint8_t(~(kFin | kPsh));
  if (index > 0) tcp[13] &= uint8_t(~kCwr);
  store_be16(tcp + 16, 0);
  store_be16(tcp + 16, csum_fold(csum_partial(tcp, l4_len, pseudo)));
  return len;
}

}  // namespace hvnet::soft
