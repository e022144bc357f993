// What a network device's driver offers AF_XDP, as the kernel advertises it (netdev generic
// netlink, "xdp-features", Linux 6.3+): zero-copy AF_XDP sockets. Nothing is attached or changed
// to find out.
#pragma once

#include <optional>
#include <string>

namespace hvnet::hostnet {

struct XdpFeatures {
  bool zerocopy = false;  // AF_XDP sockets can share their UMEM with the driver (XSK_ZEROCOPY)
};

// The features of `dev`; nullopt when the kernel cannot tell (no such device, or a kernel without
// the netdev family).
std::optional<XdpFeatures> xdp_features(const std::string& dev) noexcept;

}  // namespace hvnet::hostnet
