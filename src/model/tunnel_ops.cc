// Tunnels: a private network across the pool's hosts. hvnet is its own controller: the network's
// tunnels share one key (VNI or GRE key) chosen at the first tunnel.create, and each host reaches
// the transport addresses of the others' active tunnels and the network's external VTEPs.
#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <set>

#include "model/ops.h"
#include "model/records.h"
#include "util/tunnel_protocol.h"

namespace hvnet::model {

namespace {

std::string choose_device(const Txn& t, const std::string& host) {
  std::set<std::string> used;
  for (const auto& p : t.where("PIF", "host", host))
    used.insert(string_field(t.get(p)->rec, "device"));
  for (int n = 0;; ++n) {
    std::string d = "tunnel" + std::to_string(n);
    if (!used.count(d)) return d;
  }
}

// Why a tunnel does not run ("" when it does).
std::string inactive_reason(const Txn& t, const json& tunnel) {
  const Object* access = t.get(string_field(tunnel, "access_PIF"), "PIF");
  const Object* transport = t.get(string_field(tunnel, "transport_PIF"), "PIF");
  if (!access || !transport) return "the tunnel's PIFs are gone";
  if (!access->rec["currently_attached"].get<bool>()) return "the access PIF is unplugged";
  if (!transport->rec["currently_attached"].get<bool>()) return "the transport PIF is unplugged";
  if (pif_ipv4_address(transport->rec).empty())
    return "the transport PIF has no static IPv4 address";
  return "";
}

}  // namespace

std::string tunnel_network(const Txn& t, const std::string& tunnel) {
  const Object* tn = t.get(tunnel, "tunnel");
  const Object* access = tn ? t.get(string_field(tn->rec, "access_PIF"), "PIF") : nullptr;
  return access ? string_field(access->rec, "network") : "";
}

int64_t tunnel_mtu_limit(const Txn& t, const std::string& network) {
  int64_t limit = kMaxMtu;
  for (const auto& access : t.where("PIF", "network", network))
    for (const auto& tn : t.where("tunnel", "access_PIF", access)) {
      const json& r = t.get(tn)->rec;
      const auto protocol = parse_tunnel_protocol(string_field(r, "protocol"));
      if (const Object* tr = t.get(string_field(r, "transport_PIF"), "PIF"); tr && protocol)
        limit = std::min(limit,
                         tr->rec["MTU"].get<int64_t>() - int64_t(tunnel_overhead_ipv4(*protocol)));
    }
  return limit;
}

std::string pif_ipv4_address(const json& pif) {
  if (!pif_ipv4_subnet(pif)) return "";
  return pif["IP"].get<std::string>();
}

uint32_t tunnel_key(const Txn& t, const std::string& tunnel) {
  const Object* o = t.get(tunnel, "tunnel");
  if (!o) return 0;
  const std::string k = string_field(o->rec["status"], "key");
  uint32_t v = 0;
  std::from_chars(k.data(), k.data() + k.size(), v);
  return v;
}

bool tunnel_active(const Txn& t, const std::string& tunnel) {
  const Object* o = t.get(tunnel, "tunnel");
  return o && inactive_reason(t, o->rec).empty();
}

std::vector<std::string> tunnel_remotes(const Txn& t, const std::string& tunnel) {
  const Object* self = t.get(tunnel, "tunnel");
  if (!self) return {};
  const std::string net = tunnel_network(t, tunnel);
  const Object* own_transport = t.get(string_field(self->rec, "transport_PIF"), "PIF");
  const std::string own = own_transport ? pif_ipv4_address(own_transport->rec) : "";
  const std::string host = own_transport ? string_field(own_transport->rec, "host") : "";
  std::set<std::string> out;
  for (const auto& access : t.where("PIF", "network", net))
    for (const auto& other : t.where("tunnel", "access_PIF", access)) {
      const Object* o = t.get(other);
      const Object* tr = t.get(string_field(o->rec, "transport_PIF"), "PIF");
      if (other == tunnel || !tr || string_field(tr->rec, "host") == host ||
          !tunnel_active(t, other))
        continue;
      out.insert(pif_ipv4_address(tr->rec));
    }
  if (const Object* n = t.get(net, "network"))
    for (const auto& v : n->rec.value("external_VTEPs", json::array())) out.insert(v);
  out.erase(own);
  out.erase("");
  return {out.begin(), out.end()};
}

json tunnel_status(const Txn& t, const std::string& tunnel) {
  const Object* o = t.get(tunnel, "tunnel");
  if (!o) return json::object();
  json s = json::object();
  s["key"] = std::to_string(tunnel_key(t, tunnel));
  const std::string why = inactive_reason(t, o->rec);
  s["active"] = why.empty() ? "true" : "false";
  if (!why.empty()) s["error"] = why;
  std::string remotes;
  for (const auto& r : tunnel_remotes(t, tunnel)) remotes += (remotes.empty() ? "" : ",") + r;
  s["remote_VTEPs"] = remotes;
  return s;
}

Result<std::string> tunnel_create(Txn& t, const std::string& transport_pif,
                                  const std::string& network, const std::string& protocol_in) {
  const Object& transport = *t.get(transport_pif);
  const std::string host = string_field(transport.rec, "host");
  if (auto st = refuse_internal_network(t, network); !st) return st.error();
  // xapi's order: the network's PIFs on this host, the transport PIF's kind, the protocol.
  for (const auto& p : t.where("PIF", "network", network))
    if (string_field(t.get(p)->rec, "host") == host)
      return make_error("NETWORK_ALREADY_CONNECTED", {host, p});
  if (!transport.rec["managed"].get<bool>()) return make_error("PIF_UNMANAGED", {transport_pif});
  if (!string_field(transport.rec, "bond_slave_of").empty())
    return make_error("CANNOT_ADD_TUNNEL_TO_BOND_SLAVE", {transport_pif});
  if (t.any("tunnel", "access_PIF", transport_pif))
    return make_error("IS_TUNNEL_ACCESS_PIF", {transport_pif});
  if (auto st = refuse_sriov_topology(t, SriovUse::kTunnel, transport_pif, network); !st)
    return st.error();
  const std::string protocol = protocol_in.empty() ? "gre" : protocol_in;
  if (!parse_tunnel_protocol(protocol)) return make_error("INVALID_VALUE", {"protocol", protocol});
  // (what plugging the access PIF refuses, before anything is staged)
  if (transport.rec["ip_configuration_mode"] == "None")
    return make_error("TRANSPORT_PIF_NOT_CONFIGURED", {transport_pif});

  // The network's key: that of its other tunnels (one protocol per network: frames of one
  // encapsulation never reach the other), else the lowest no network in the pool uses.
  uint32_t key = 0;
  std::set<uint32_t> used;
  for (const auto& other : t.all_of("tunnel")) {
    const uint32_t k = tunnel_key(t, other);
    if (tunnel_network(t, other) != network) {
      used.insert(k);
      continue;
    }
    const std::string theirs = string_field(t.get(other)->rec, "protocol");
    if (theirs != protocol)
      return make_error("INVALID_VALUE",
                        {"protocol", protocol, "the network's tunnels use " + theirs});
    key = k;
  }
  if (key == 0)
    while (used.count(++key)) {
    }

  std::string access = new_uuid(), tunnel = new_uuid();
  const Object* n = t.get(network, "network");
  json p = new_pif_record(choose_device(t, host), random_xen_mac(), n ? n->rec["MTU"] : json(1500),
                          -1, /*physical=*/false, network, host);
  t.put(access, Object{"PIF", p});
  json rec = default_record(*find_class("tunnel"));
  rec["access_PIF"] = access;
  rec["transport_PIF"] = transport_pif;
  rec["status"] = {{"key", std::to_string(key)}};
  rec["protocol"] = protocol;
  t.put(tunnel, Object{"tunnel", rec});
  if (auto st = pif_plug(t, access); !st) return st.error();
  // The network's MTU follows the transport: lowered to what the tunnel carries whole.
  const int64_t limit = tunnel_mtu_limit(t, network);
  if (n && n->rec["MTU"].get<int64_t>() > limit)
    if (auto st = set_field(t, network, "MTU", limit); !st) return st.error();
  return tunnel;
}

Status tunnel_destroy(Txn& t, const std::string& tunnel) {
  const std::string access = string_field(t.get(tunnel)->rec, "access_PIF");
  if (const Object* p = t.get(access, "PIF")) {
    if (p->rec["management"].get<bool>())
      return make_error("PIF_IS_MANAGEMENT_INTERFACE", {access});
    t.erase(access);
  }
  t.erase(tunnel);
  return ok_status();
}

Status check_external_vteps(const json& addrs) {
  constexpr size_t kMaxExternalVteps = 64;
  if (addrs.size() > kMaxExternalVteps)
    return make_error("INVALID_VALUE",
                      {"external_VTEPs", "at most " + std::to_string(kMaxExternalVteps)});
  for (const auto& a : addrs) {
    const std::string s = a.get<std::string>();
    in_addr v{};
    const uint32_t h = inet_pton(AF_INET, s.c_str(), &v) == 1 ? ntohl(v.s_addr) : 0;
    // a unicast host address: not 0/8, loopback, multicast or reserved
    if (h >> 24 == 0 || h >> 24 == 127 || h >> 28 >= 14)
      return make_error("INVALID_IP_ADDRESS_SPECIFIED", {"external_VTEPs", s});
  }
  return ok_status();
}

}  // namespace hvnet::model
