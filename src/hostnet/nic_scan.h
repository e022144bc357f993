// NIC discovery for PIF.scan: the host's Ethernet devices that can become PIFs: physical NICs (a
// device link in sysfs) and veths; never loopback, bridges, TAPs or tunnels. An optional name
// prefix limits discovery (a host may dedicate only some NICs to hvnet; tests use their own names).
#pragma once

#include <string>
#include <vector>

#include "model/ops.h"

namespace hvnet::hostnet {

std::vector<model::NicInfo> scan_nics(const std::string& prefix);

}  // namespace hvnet::hostnet
