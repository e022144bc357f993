// The PIF backend rule: what `--pif-backend auto` (and each explicit backend) tries on a device,
// given what its driver offers.
#include "control/pif_choice.h"

#include <gtest/gtest.h>

namespace hvnet {
namespace {

PifCapabilities caps(bool known, bool zc, bool fits = true) {
  PifCapabilities c;
  c.driver = "ixgbe";
  c.features_known = known;
  c.xdp_zerocopy = zc;
  c.mtu_fits_xdp = fits;
  return c;
}
using Tries = std::vector<PifPath>;

TEST(PifChoice, AutoTakesAfXdpOnlyWhereTheDriverGivesZeroCopy) {
  auto zc = plan_pif(PifBackend::kAuto, caps(true, true));
  EXPECT_EQ(zc.tries, (Tries{PifPath::kXdpNativeZeroCopy, PifPath::kAfPacket}));
  EXPECT_NE(zc.reason.find("driver ixgbe offers AF_XDP zero-copy"), std::string::npos);
  // A veth (native XDP, copy mode only), or a driver without native XDP at all -> AF_PACKET,
  // the faster of the two there.
  auto veth = plan_pif(PifBackend::kAuto, caps(true, false));
  EXPECT_EQ(veth.tries, (Tries{PifPath::kAfPacket}));
  EXPECT_NE(veth.reason.find("no AF_XDP zero-copy"), std::string::npos);
  // A kernel that cannot tell -> AF_PACKET, and the reason says so.
  auto unknown = plan_pif(PifBackend::kAuto, caps(false, false));
  EXPECT_EQ(unknown.tries, (Tries{PifPath::kAfPacket}));
  EXPECT_NE(unknown.reason.find("does not say"), std::string::npos);
}

TEST(PifChoice, JumboMtuGoesToAfPacketWhateverWasAsked) {
  for (PifBackend b : kPifBackends) {
    auto p = plan_pif(b, caps(true, true, /*fits=*/false));
    EXPECT_EQ(p.tries, (Tries{PifPath::kAfPacket})) << pif_backend_name(b);
  }
}

TEST(PifChoice, ExplicitBackendsAreHonouredWithZeroCopyWhereOffered) {
  EXPECT_EQ(plan_pif(PifBackend::kXdp, caps(true, false)).tries,
            (Tries{PifPath::kXdpNative, PifPath::kXdpGeneric}));
  EXPECT_EQ(plan_pif(PifBackend::kXdp, caps(true, true)).tries,
            (Tries{PifPath::kXdpNativeZeroCopy, PifPath::kXdpGeneric}));
  EXPECT_EQ(plan_pif(PifBackend::kXdpNative, caps(true, false)).tries,
            (Tries{PifPath::kXdpNative}));
  EXPECT_EQ(plan_pif(PifBackend::kXdpGeneric, caps(true, true)).tries,
            (Tries{PifPath::kXdpGeneric}));
  EXPECT_EQ(plan_pif(PifBackend::kAfPacket, caps(true, true)).tries, (Tries{PifPath::kAfPacket}));
  EXPECT_EQ(plan_pif(PifBackend::kAfPacket, caps(true, true)).reason, "--pif-backend af_packet");
}

}  // namespace
}  // namespace hvnet
