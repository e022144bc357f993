// The PortFactory hvnetd uses: TAP devices for VIFs and internal ports, AF_PACKET sockets for PIFs,
// and bonds of AF_PACKET members whose carrier comes from the LinkMonitor. Needs CAP_NET_ADMIN
// (and CAP_NET_RAW); errors come back as PORT_OPEN_FAILED with the reason.
#pragma once

#include "control/switch_controller.h"
#include "hostnet/link_monitor.h"

namespace hvnet {

PortFactory kernel_port_factory(hostnet::LinkMonitor& links);

}  // namespace hvnet
