// The tunnel encapsulations hvnet speaks, one spelling for the model (tunnel.protocol), the
// topology file, the reconciler and the data plane (TunnelPort), and what each costs on an IPv4
// underlay. Pure, no dependencies.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace hvnet {

enum class TunnelProtocol : uint8_t { kVxlan, kGre };

inline constexpr const char* tunnel_protocol_name(TunnelProtocol p) noexcept {
  return p == TunnelProtocol::kGre ? "gre" : "vxlan";
}

inline std::optional<TunnelProtocol> parse_tunnel_protocol(std::string_view s) noexcept {
  for (TunnelProtocol p : {TunnelProtocol::kVxlan, TunnelProtocol::kGre})
    if (s == tunnel_protocol_name(p)) return p;
  return std::nullopt;
}

// What an inner frame of a network at MTU m becomes on the underlay: m plus the outer IPv4
// header, the encapsulation's own headers (UDP and VXLAN, or GRE with a key) and the inner
// Ethernet header. A network's MTU is at most the transport's MTU less this.
inline constexpr uint32_t tunnel_overhead_ipv4(TunnelProtocol p) noexcept {
  return p == TunnelProtocol::kGre ? 20 + 8 + 14 : 20 + 8 + 8 + 14;
}

}  // namespace hvnet
