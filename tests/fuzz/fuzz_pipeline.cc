// Frames through the whole pipeline (Ethernet, 802.1Q/802.1ad, ARP, IPv4, IPv6 and neighbour
// discovery in the locking filter, MTU with GSO headers, learning, flooding, VLAN push/pop, bond
// and LACP receive): every frame is forwarded or dropped for a reason, none crashes the switch.
// Input: records of [port byte][vnet byte][len hi][len lo][vnet header?][frame bytes].
#include <cstring>

#include "../unit/mem_switch.h"

namespace {

const char* kPorts[] = {"vm1", "vm2", "pif", "host", "m0", "m1"};

hvnet::test::MemSwitch& world() {
  static hvnet::test::MemSwitch sw;
  static bool ok = [] {
    nlohmann::json topo = {
        {"networks", {{{"name", "n"}, {"mtu", 1500}}, {{"name", "v10"}, {"mtu", 9000}}}},
        {"ports",
         {{{"name", "vm1"},
           {"network", "n"},
           {"mac", "00:16:3e:00:00:01"},
           {"locking", {{"mode", "locked"}, {"ipv4", {"10.0.0.1"}}, {"ipv6", {"fd00::1"}}}}},
          {{"name", "vm2"}, {"network", "v10"}},
          {{"name", "host"}, {"type", "internal"}, {"network", "n"}},
          {{"name", "pif"},
           {"type", "af_packet"},
           {"network", "n"},
           {"vlans", {{{"tag", 10}, {"network", "v10"}}}}},
          {{"name", "bond0"},
           {"type", "bond"},
           {"network", "n"},
           {"members", {"m0", "m1"}},
           {"mode", "lacp"}}}}};
    return bool(sw.apply_json(topo));
  }();
  if (!ok) __builtin_trap();
  return sw;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto& sw = world();
  size_t off = 0;
  for (int n = 0; n < 64 && off + 4 <= size; ++n) {
    const uint8_t port = data[off] % 6, vflag = data[off + 1];
    size_t len = (size_t(data[off + 2]) << 8 | data[off + 3]) % 9300;
    off += 4;
    hvnet::VnetHdr vnet;
    if ((vflag & 1) && off + sizeof vnet <= size) {
      std::memcpy(&vnet, data + off, sizeof vnet);
      off += sizeof vnet;
    }
    len = std::min(len, size - off);
    sw.port(kPorts[port]).inject(std::vector<uint8_t>(data + off, data + off + len), vnet);
    off += len;
  }
  sw.now_ms += 100;
  sw.step();
  for (auto& [name, p] : sw.ports) p->take_sent();
  return 0;
}
