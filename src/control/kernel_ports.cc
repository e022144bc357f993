#include "control/kernel_ports.h"

#include <spdlog/spdlog.h>

#include <fstream>
#include <map>
#include <mutex>

#include "control/pif_choice.h"
#include "dataplane/bond_port.h"
#include "hostnet/link.h"
#include "hostnet/xdp_features.h"
#include "io/af_packet_port.h"
#include "io/tap_port.h"
#include "io/tunnel_port.h"
#include "io/xdp_port.h"
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

PifCapabilities pif_capabilities(const std::string& dev, uint32_t mtu) {
  PifCapabilities caps;
  caps.driver = hostnet::driver_name(dev);
  caps.mtu_fits_xdp = XdpPort::fits_mtu(mtu);
  if (auto f = hostnet::xdp_features(dev)) {
    caps.features_known = true;
    caps.xdp_zerocopy = f->zerocopy;
  }
  return caps;
}

std::unique_ptr<Port> open_pif(const std::string& dev, uint32_t mtu, PifBackend backend,
                               std::string* error) {
  // A PIF carries its networks' MTU (XenServer sets the device MTU from the network).
  if (mtu != 0) hostnet::set_mtu(dev, mtu);
  const PifPlan plan = plan_pif(backend, pif_capabilities(dev, mtu));
  std::string refusals;  // why each path tried before the one in use was refused
  std::unique_ptr<Port> port;
  for (PifPath path : plan.tries) {
    std::string err;
    switch (path) {
      case PifPath::kXdpNativeZeroCopy:
        port = XdpPort::open(dev, XdpMode::kNative, /*zerocopy=*/true, &err);
        break;
      case PifPath::kXdpNative:
        port = XdpPort::open(dev, XdpMode::kNative, false, &err);
        break;
      case PifPath::kXdpGeneric:
        port = XdpPort::open(dev, XdpMode::kGeneric, false, &err);
        break;
      case PifPath::kAfPacket:
        port = AfPacketPort::open(dev, &err);
        break;
    }
    if (port) break;
    refusals += (refusals.empty() ? "" : "; ") + err;
  }
  if (!port) {
    *error = refusals;
    return nullptr;
  }
  std::string reason = plan.reason;
  if (!refusals.empty()) reason += " (" + refusals + ")";
  port->set_backend_reason(reason);
  spdlog::info("{}: {}: {}", dev, port->backend(), reason);
  return port;
}

PortFactory kernel_port_factory(hostnet::LinkMonitor& links, PifBackend backend) {
  // PIFs and bond members open now, keyed by device. A device changing role (a PIF becoming a
  // bond member, a bond changing mode) keeps its port: the old snapshot still holds it while the
  // new one is built, and an AF_XDP queue takes only one socket.
  struct OpenDevices {
    std::mutex mu;
    std::map<std::string, std::weak_ptr<Port>> ports;
  };
  auto open_devices = std::make_shared<OpenDevices>();
  auto pif = [open_devices, backend](const std::string& dev, uint32_t mtu,
                                     std::string* err) -> std::shared_ptr<Port> {
    std::lock_guard lk(open_devices->mu);
    auto& slot = open_devices->ports[dev];
    if (auto live = slot.lock()) {
      if (XdpPort::fits_mtu(mtu) || live->kind() != PortKind::kXdp) {
        if (mtu != 0) hostnet::set_mtu(dev, mtu);
        return live;
      }
    }
    std::shared_ptr<Port> port = open_pif(dev, mtu, backend, err);
    slot = port;
    return port;
  };
  return [&links, pif](const PortSpec& spec, uint32_t mtu) -> Result<std::shared_ptr<Port>> {
    std::string err;
    if (spec.kind == PortKind::kBond) {
      std::vector<BondMemberSpec> members;
      for (const auto& dev : spec.members) {
        auto m = pif(dev, mtu, &err);
        if (!m) return make_error("PORT_OPEN_FAILED", {dev, err});
        members.push_back(BondMemberSpec{std::move(m), links.watch(dev), device_mac(dev)});
      }
      BondConfig cfg = spec.bond;
      if (cfg.mac == std::array<uint8_t, 6>{}) cfg.mac = members.front().mac;
      return std::shared_ptr<Port>(std::make_shared<BondPort>(spec.name, cfg, std::move(members)));
    }
    std::shared_ptr<Port> port;
    if (spec.kind == PortKind::kAfPacket) {
      port = pif(spec.name, mtu, &err);
    } else if (is_tunnel(spec.kind)) {
      port = TunnelPort::open(spec.name, spec.tunnel, &err);
    } else {
      port = TapPort::open(spec.name, spec.kind, mtu, spec.mac, &err);
    }
    if (!port) return make_error("PORT_OPEN_FAILED", {spec.name, err});
    return port;
  };
}

}  // namespace hvnet
