// The PortFactory hvnetd uses: TAP devices for VIFs and internal ports; PIFs and bond members
// through AF_XDP or AF_PACKET, as the operator chose or, by default, the fastest the device
// allows (pif_choice.h); bond member carrier comes from the LinkMonitor. Needs
// CAP_NET_ADMIN (and CAP_NET_RAW); errors come back as PORT_OPEN_FAILED with the reason.
#pragma once

#include <memory>
#include <string>

#include "control/pif_backend.h"
#include "control/switch_controller.h"
#include "hostnet/link_monitor.h"

namespace hvnet {

// Opens one PIF (or bond member) on `dev`; null and the reasons of every attempt on failure.
std::unique_ptr<Port> open_pif(const std::string& dev, uint32_t mtu, PifBackend backend,
                               std::string* error);

PortFactory kernel_port_factory(hostnet::LinkMonitor& links, PifBackend backend);

}  // namespace hvnet
