// The PortFactory hvnetd uses: TAP devices for VIFs and internal ports, AF_PACKET sockets for PIFs.
// Needs CAP_NET_ADMIN (and CAP_NET_RAW); errors come back as PORT_OPEN_FAILED with the reason.
#pragma once

#include "control/switch_controller.h"

namespace hvnet {

PortFactory kernel_port_factory();

}  // namespace hvnet
