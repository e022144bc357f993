// Which way a PIF reaches its NIC, decided per device from what its driver offers (the capability
// seam: PifCapabilities is all the rule sees, so it is tested without hardware). The default,
// kAuto, takes the fastest path measured here: AF_XDP only where the driver gives zero-copy
// (frames then never cross a copy), AF_PACKET otherwise -- AF_XDP in copy mode copies every frame
// twice and loses to AF_PACKET's batched sockets (on veth: TCP 0.17x the Linux bridge against
// AF_PACKET's 0.61x, 64-byte frames 0.43x OVS AF_XDP against 0.55x).
#pragma once

#include <string>
#include <vector>

#include "control/pif_backend.h"

namespace hvnet {

struct PifCapabilities {
  std::string driver;           // for the reason given to operators ("" = unknown)
  bool features_known = false;  // the kernel said what the driver offers
  bool xdp_zerocopy = false;
  bool mtu_fits_xdp = true;  // the MTU (with two VLAN tags) fits one AF_XDP chunk
};

// One way of opening a PIF.
enum class PifPath : uint8_t { kXdpNativeZeroCopy, kXdpNative, kXdpGeneric, kAfPacket };

struct PifPlan {
  std::vector<PifPath> tries;  // in order; the first that opens is used
  std::string reason;          // why this order, in words an operator reads in logs and stats
};

PifPlan plan_pif(PifBackend requested, const PifCapabilities& caps);

}  // namespace hvnet
