#include "control/pif_choice.h"

namespace hvnet {

PifPlan plan_pif(PifBackend requested, const PifCapabilities& caps) {
  const std::string driver = caps.driver.empty() ? "its driver" : "driver " + caps.driver;
  if (!caps.mtu_fits_xdp && requested != PifBackend::kAfPacket)
    return {{PifPath::kAfPacket}, "its MTU does not fit one AF_XDP chunk (jumbo frames)"};
  // Zero-copy where the kernel says the driver has it; copy mode where it does not (or cannot
  // tell), as asked.
  const PifPath native = caps.xdp_zerocopy ? PifPath::kXdpNativeZeroCopy : PifPath::kXdpNative;
  switch (requested) {
    case PifBackend::kAuto:
      if (caps.xdp_zerocopy)
        return {{PifPath::kXdpNativeZeroCopy, PifPath::kAfPacket},
                driver + " offers AF_XDP zero-copy"};
      if (!caps.features_known)
        return {{PifPath::kAfPacket},
                "the kernel does not say whether " + driver +
                    " offers AF_XDP zero-copy; AF_PACKET is faster than AF_XDP copy mode"};
      return {{PifPath::kAfPacket},
              driver + " offers no AF_XDP zero-copy; AF_PACKET is faster than AF_XDP copy mode"};
    case PifBackend::kXdp:
      return {{native, PifPath::kXdpGeneric}, "--pif-backend af_xdp"};
    case PifBackend::kXdpNative:
      return {{native}, "--pif-backend af_xdp-native"};
    case PifBackend::kXdpGeneric:
      return {{PifPath::kXdpGeneric}, "--pif-backend af_xdp-generic"};
    case PifBackend::kAfPacket:
      return {{PifPath::kAfPacket}, "--pif-backend af_packet"};
  }
  return {{PifPath::kAfPacket}, "?"};
}

}  // namespace hvnet
