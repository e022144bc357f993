#include "control/kernel_ports.h"

#include <spdlog/spdlog.h>

#include <fstream>
#include <map>
#include <mutex>

#include "dataplane/bond_port.h"
#include "hostnet/link.h"
#include "io/af_packet_port.h"
#include "io/tap_port.h"
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

std::unique_ptr<Port> open_pif(const std::string& dev, uint32_t mtu, PifBackend backend,
                               std::string* error) {
  // A PIF carries its networks' MTU (XenServer sets the device MTU from the network).
  if (mtu != 0) hostnet::set_mtu(dev, mtu);
  std::string reasons;  // why each backend tried before the one in use was refused
  auto refused = [&](const std::string& why) { reasons += (reasons.empty() ? "" : "; ") + why; };
  std::unique_ptr<Port> port;
  auto try_xdp = [&](XdpMode mode) {
    std::string err;
    if (!(port = XdpPort::open(dev, mode, &err))) refused(err);
  };
  auto try_packet = [&] {
    std::string err;
    if (!(port = AfPacketPort::open(dev, &err))) refused(err);
  };
  if (!XdpPort::fits_mtu(mtu) && backend != PifBackend::kAfPacket) {
    refused("MTU " + std::to_string(mtu) + " does not fit one AF_XDP chunk");
    try_packet();
  } else {
    switch (backend) {
      case PifBackend::kXdpNative:
        try_xdp(XdpMode::kNative);
        break;
      case PifBackend::kXdpGeneric:
        try_xdp(XdpMode::kGeneric);
        break;
      case PifBackend::kXdp:
      case PifBackend::kAuto:
        try_xdp(XdpMode::kNative);
        if (!port) try_xdp(XdpMode::kGeneric);
        if (!port && backend == PifBackend::kAuto) try_packet();
        break;
      case PifBackend::kAfPacket:
        try_packet();
        break;
    }
  }
  if (!port) {
    *error = reasons;
    return nullptr;
  }
  if (!reasons.empty())
    spdlog::info("{}: {} ({})", dev, port->backend(), reasons);
  else
    spdlog::info("{}: {}", dev, port->backend());
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
    } else {
      port = TapPort::open(spec.name, spec.kind, mtu, spec.mac, &err);
    }
    if (!port) return make_error("PORT_OPEN_FAILED", {spec.name, err});
    return port;
  };
}

}  // namespace hvnet
