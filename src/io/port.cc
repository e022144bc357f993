#include "io/port.h"

namespace hvnet {

const char* port_kind_name(PortKind k) noexcept {
  switch (k) {
    case PortKind::kTap:
      return "tap";
    case PortKind::kInternal:
      return "internal";
    case PortKind::kAfPacket:
      return "af_packet";
    case PortKind::kMemory:
      return "memory";
    case PortKind::kBond:
      return "bond";
    case PortKind::kXdp:
      return "af_xdp";
    case PortKind::kVxlan:
      return "vxlan";
    case PortKind::kGre:
      return "gre";
  }
  return "unknown";
}

}  // namespace hvnet
