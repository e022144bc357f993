// IPv4 addresses as operators read them (dotted quad), one spelling for the topology file, the
// VXLAN port's status and its errors, the model's address checks and the host's addressing;
// numbers are in host byte order.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstdint>
#include <optional>
#include <string>

namespace hvnet {

inline std::string ipv4_text(in_addr a) {
  char s[INET_ADDRSTRLEN] = "";
  inet_ntop(AF_INET, &a, s, sizeof s);
  return s;
}

inline std::string ipv4_text(uint32_t a) {
  return ipv4_text(in_addr{htonl(a)});
}

// A dotted quad, or nullopt.
inline std::optional<uint32_t> ipv4_from_text(const std::string& s) {
  in_addr a{};
  if (inet_pton(AF_INET, s.c_str(), &a) != 1) return std::nullopt;
  return ntohl(a.s_addr);
}

// The netmask of a prefix length (0..32).
inline uint32_t ipv4_mask(int prefix) {
  return prefix == 0 ? 0 : ~uint32_t(0) << (32 - prefix);
}

}  // namespace hvnet
