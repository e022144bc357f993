#include "dataplane/locking_filter.h"

#include <arpa/inet.h>

#include <cstring>

#include "packet/headers.h"
#include "packet/mac.h"

namespace hvnet {

bool Ipv6Prefix::contains(const uint8_t* a) const noexcept {
  uint32_t full = len / 8, rest = len % 8;
  if (std::memcmp(a, addr.data(), full) != 0) return false;
  if (rest == 0) return true;
  uint8_t m = uint8_t(0xff << (8 - rest));
  return (a[full] & m) == (addr[full] & m);
}

namespace {

std::pair<std::string, int> split_prefix(const std::string& s, int max) {
  auto slash = s.find('/');
  if (slash == std::string::npos) return {s, max};
  const std::string len = s.substr(slash + 1);
  if (len.empty() || len.size() > 3 || len.find_first_not_of("0123456789") != std::string::npos)
    return {"", -1};
  int n = std::stoi(len);
  return {s.substr(0, slash), n <= max ? n : -1};
}

bool is_zero(const uint8_t* a, size_t n) noexcept {
  for (size_t i = 0; i < n; ++i)
    if (a[i]) return false;
  return true;
}

}  // namespace

std::optional<Ipv4Prefix> LockingRules::parse_ipv4(const std::string& s) {
  auto [addr, len] = split_prefix(s, 32);
  in_addr a{};
  if (len < 0 || inet_pton(AF_INET, addr.c_str(), &a) != 1) return std::nullopt;
  uint32_t mask = len == 0 ? 0 : ~uint32_t(0) << (32 - len);
  return Ipv4Prefix{ntohl(a.s_addr) & mask, mask};
}

std::optional<Ipv6Prefix> LockingRules::parse_ipv6(const std::string& s) {
  auto [addr, len] = split_prefix(s, 128);
  Ipv6Prefix p{};
  if (len < 0 || inet_pton(AF_INET6, addr.c_str(), p.addr.data()) != 1) return std::nullopt;
  p.len = uint8_t(len);
  return p;
}

Result<LockingRules> LockingRules::make(LockingMode mode, uint64_t mac,
                                        const std::vector<std::string>& ipv4,
                                        const std::vector<std::string>& ipv6) {
  LockingRules r;
  r.mode = mode;
  r.mac = mac;
  for (const auto& s : ipv4) {
    auto p = parse_ipv4(s);
    if (!p) return make_error("INVALID_IP_ADDRESS_SPECIFIED", {"ipv4_allowed", s});
    r.ipv4.push_back(*p);
  }
  for (const auto& s : ipv6) {
    auto p = parse_ipv6(s);
    if (!p) return make_error("INVALID_IP_ADDRESS_SPECIFIED", {"ipv6_allowed", s});
    r.ipv6.push_back(*p);
  }
  return r;
}

std::optional<DropReason> LockingRules::check(const Packet& p) const noexcept {
  if (mode == LockingMode::kUnlocked)
    return forged_reject && mac_u64_at(p.data + 6) != mac ? std::optional(DropReason::kLockMac)
                                                          : std::nullopt;
  if (mode == LockingMode::kDisabled) return DropReason::kLockDisabled;
  if (mac_u64_at(p.data + 6) != mac) return DropReason::kLockMac;
  if (ipv4.empty() && ipv6.empty()) return DropReason::kLockNoIp;
  const uint8_t* l3 = p.data + p.l2_len;
  const uint32_t l3len = p.len - p.l2_len;
  const uint16_t et = load_be16(p.data + p.l2_len - 2);
  auto v4_allowed = [&](uint32_t a) {
    for (const auto& pr : ipv4)
      if (pr.contains(a)) return true;
    return false;
  };
  auto v6_allowed = [&](const uint8_t* a) {
    for (const auto& pr : ipv6)
      if (pr.contains(a)) return true;
    return false;
  };
  switch (et) {
    case kEtherTypeArp: {
      auto arp = parse_arp(l3, l3len);
      if (!arp || mac_u64_at(arp->sha) != mac) return DropReason::kLockArp;
      if (arp->spa != 0 && !v4_allowed(arp->spa)) return DropReason::kLockArp;
      return std::nullopt;
    }
    case kEtherTypeIpv4: {
      auto ip = hvnet::parse_ipv4(l3, l3len);
      if (!ip) return DropReason::kLockIpv4;
      if (v4_allowed(ip->src)) return std::nullopt;
      if (ip->src == 0 && ip->proto == 17) {  // DHCP discovery/request before an address
        auto udp = parse_udp(l3 + ip->ihl_bytes, l3len - ip->ihl_bytes);
        if (udp && udp->src_port == 68 && udp->dst_port == 67) return std::nullopt;
      }
      return DropReason::kLockIpv4;
    }
    case kEtherTypeIpv6: {
      auto ip = hvnet::parse_ipv6(l3, l3len);
      if (!ip) return DropReason::kLockIpv6;
      const bool unspecified = is_zero(ip->src, 16);
      if (ip->next_header == 58) {  // ICMPv6 (no extension headers in ND)
        auto nd = parse_icmpv6_nd(l3 + kIpv6HdrLen, l3len - kIpv6HdrLen);
        if (!nd) return DropReason::kLockNd;
        switch (nd->type) {
          case kIcmpv6RouterAdvert:
          case kIcmpv6Redirect:
            return DropReason::kLockRa;
          case kIcmpv6NeighAdvert:
            if (!v6_allowed(nd->target)) return DropReason::kLockNd;
            if (nd->lladdr && mac_u64_at(nd->lladdr) != mac) return DropReason::kLockNd;
            return v6_allowed(ip->src) ? std::nullopt : std::optional(DropReason::kLockNd);
          case kIcmpv6NeighSolicit:
            if (nd->lladdr && mac_u64_at(nd->lladdr) != mac) return DropReason::kLockNd;
            if (unspecified) return std::nullopt;  // duplicate address detection
            break;
          case 143:  // MLDv2 report, sent from :: while an address is tentative
          case kIcmpv6RouterSolicit:
            if (unspecified) return std::nullopt;
            break;
          default:
            break;
        }
      }
      return v6_allowed(ip->src) ? std::nullopt : std::optional(DropReason::kLockIpv6);
    }
    default:
      return DropReason::kLockEthertype;
  }
}

}  // namespace hvnet
