// Link control over rtnetlink (libmnl): bring interfaces up or down, set MTU, read ifindex and
// carrier. Every call returns 0 or a negative errno; nothing here throws or caches state.
#pragma once

#include <cstdint>
#include <string>

namespace hvnet::hostnet {

int if_index(const std::string& name) noexcept;  // 0 when absent
int set_link_up(const std::string& name, bool up) noexcept;
int set_mtu(const std::string& name, unsigned mtu) noexcept;
int set_mac(const std::string& name, const uint8_t mac[6]) noexcept;
std::string errno_text(int negative_errno);
// Writes a sysctl by its /proc/sys path (best effort: a key this kernel lacks is left alone).
void write_sysctl(const std::string& path, const char* value);
// The driver behind `dev` ("veth", "ixgbe", ...; ethtool's answer), or "" when unknown.
std::string driver_name(const std::string& dev);

}  // namespace hvnet::hostnet
