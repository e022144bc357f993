#include "control/kernel_ports.h"

#include <fstream>

#include "dataplane/bond_port.h"
#include "hostnet/link.h"
#include "io/af_packet_port.h"
#include "io/tap_port.h"
#include "packet/mac.h"

namespace hvnet {

namespace {

std::array<uint8_t, 6> device_mac(const std::string& dev) {
  std::ifstream in("/sys/class/net/" + dev + "/address");
  std::string s;
  in >> s;
  auto m = MacAddr::parse(s);
  return m ? m->b : std::array<uint8_t, 6>{};
}

}  // namespace

PortFactory kernel_port_factory(hostnet::LinkMonitor& links) {
  return [&links](const PortSpec& spec, uint32_t mtu) -> Result<std::shared_ptr<Port>> {
    std::string err;
    std::shared_ptr<Port> port;
    if (spec.kind == PortKind::kBond) {
      std::vector<BondMemberSpec> members;
      for (const auto& dev : spec.members) {
        if (mtu != 0) hostnet::set_mtu(dev, mtu);
        auto m = AfPacketPort::open(dev, &err);
        if (!m) return make_error("PORT_OPEN_FAILED", {dev, err});
        members.push_back(BondMemberSpec{std::move(m), links.watch(dev), device_mac(dev)});
      }
      BondConfig cfg = spec.bond;
      if (cfg.mac == std::array<uint8_t, 6>{}) cfg.mac = members.front().mac;
      return std::shared_ptr<Port>(std::make_shared<BondPort>(spec.name, cfg, std::move(members)));
    }
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
