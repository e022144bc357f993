#include "control/kernel_ports.h"

#include "hostnet/link.h"
#include "io/af_packet_port.h"
#include "io/tap_port.h"

namespace hvnet {

PortFactory kernel_port_factory() {
  return [](const PortSpec& spec, uint32_t mtu) -> Result<std::shared_ptr<Port>> {
    std::string err;
    std::shared_ptr<Port> port;
    if (spec.kind == PortKind::kAfPacket) {
      // A PIF carries its networks' MTU (XenServer sets the device MTU from the network).
      if (mtu != 0) hostnet::set_mtu(spec.name, mtu);
      port = AfPacketPort::open(spec.name, &err);
    } else {
      port = TapPort::open(spec.name, spec.kind, mtu, spec.mac, &err);
    }
    if (!port) return make_error("PORT_OPEN_FAILED", {spec.name, err});
    return port;
  };
}

}  // namespace hvnet
