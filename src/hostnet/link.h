// Link control over rtnetlink (libmnl): bring interfaces up or down, set MTU, read ifindex and
// carrier. Every call returns 0 or a negative errno; nothing here throws or caches state.
#pragma once

#include <string>

namespace hvnet::hostnet {

int if_index(const std::string& name) noexcept;  // 0 when absent
int set_link_up(const std::string& name, bool up) noexcept;
int set_mtu(const std::string& name, unsigned mtu) noexcept;
std::string errno_text(int negative_errno);

}  // namespace hvnet::hostnet
