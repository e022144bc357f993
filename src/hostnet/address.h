// Host addressing over rtnetlink (libmnl): the IPv4 addresses of an interface and the default
// route. Used for the host's own interfaces (management, storage). Returns 0 or -errno; changes
// only the namespace hvnetd runs in.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace hvnet::hostnet {

struct Ipv4Cidr {
  uint32_t addr;  // host byte order
  uint8_t prefix;
};

// Replaces every IPv4 address of `ifname` with `addrs` (empty: removes them all).
int set_ipv4_addresses(const std::string& ifname, const std::vector<Ipv4Cidr>& addrs) noexcept;
// Default route via `gateway` out of `ifname` (replaces any); gateway 0 removes the default route.
int set_default_route(const std::string& ifname, uint32_t gateway) noexcept;

}  // namespace hvnet::hostnet
