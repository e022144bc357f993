// The PortFactory hvnetd uses: TAP devices for VIFs and internal ports; PIFs and bond members
// through AF_XDP (native, else generic) or AF_PACKET, as the operator chose or, by default, the
// fastest the interface accepts; bond member carrier comes from the LinkMonitor. Needs
// CAP_NET_ADMIN (and CAP_NET_RAW); errors come back as PORT_OPEN_FAILED with the reason.
#pragma once

#include <memory>
#include <string>

#include "control/switch_controller.h"
#include "hostnet/link_monitor.h"

namespace hvnet {

// How PIFs reach their NIC. kAuto: AF_XDP native, then generic, then AF_PACKET. kXdp: AF_XDP
// native, then generic, failing if neither attaches. kXdpNative/kXdpGeneric: that mode or
// nothing. All but kAfPacket put a PIF whose MTU does not fit one AF_XDP chunk (jumbo frames) on
// AF_PACKET.
enum class PifBackend : uint8_t { kAuto, kXdp, kXdpNative, kXdpGeneric, kAfPacket };
inline constexpr PifBackend kPifBackends[] = {PifBackend::kAuto, PifBackend::kXdp,
                                              PifBackend::kXdpNative, PifBackend::kXdpGeneric,
                                              PifBackend::kAfPacket};
// The one spelling of each backend (command line, logs).
constexpr const char* pif_backend_name(PifBackend b) {
  switch (b) {
    case PifBackend::kAuto:
      return "auto";
    case PifBackend::kXdp:
      return "af_xdp";
    case PifBackend::kXdpNative:
      return "af_xdp-native";
    case PifBackend::kXdpGeneric:
      return "af_xdp-generic";
    case PifBackend::kAfPacket:
      return "af_packet";
  }
  return "?";
}

// Opens one PIF (or bond member) on `dev`; null and the reasons of every attempt on failure.
std::unique_ptr<Port> open_pif(const std::string& dev, uint32_t mtu, PifBackend backend,
                               std::string* error);

PortFactory kernel_port_factory(hostnet::LinkMonitor& links, PifBackend backend);

}  // namespace hvnet
