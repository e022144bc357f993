// Host addressing over rtnetlink (libmnl): the IPv4/IPv6 addresses of an interface and the default
// routes. Used for the host's own interfaces (management, storage). Returns 0 or -errno; changes
// only the namespace hvnetd runs in. IPv6 link-local addresses are never touched.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace hvnet::hostnet {

struct IpCidr {
  int family = 0;                  // AF_INET or AF_INET6
  std::array<uint8_t, 16> addr{};  // network byte order (4 bytes used for IPv4)
  uint8_t prefix = 0;
  bool operator==(const IpCidr&) const = default;
  // "10.0.0.1/24", "fd00::1/64" (a bare address gets a host prefix).
  static std::optional<IpCidr> parse(const std::string& s);
};

// Replaces every address of `family` on `ifname` with `addrs` (empty: removes them all).
int set_addresses(const std::string& ifname, int family, const std::vector<IpCidr>& addrs) noexcept;
// Default route of `gateway`'s family via it out of `ifname` (replaces any).
int set_default_route(const std::string& ifname, const IpCidr& gateway) noexcept;
// Removes the default route of `family`.
int clear_default_route(int family) noexcept;

// The IPv4 routes of the main table marked with route protocol `protocol` become exactly
// `routes` (destination, out of interface; on-link): routes not wanted are removed, missing ones
// added, so applying the same list twice (or after a restart) changes nothing.
struct LinkRoute {
  IpCidr dst;
  std::string ifname;
  bool operator==(const LinkRoute&) const = default;
};
int set_link_routes(uint8_t protocol, const std::vector<LinkRoute>& routes) noexcept;
// The routes of `protocol` now (ifname filled in), for tests and checks.
int link_routes(uint8_t protocol, std::vector<LinkRoute>* out) noexcept;

}  // namespace hvnet::hostnet
