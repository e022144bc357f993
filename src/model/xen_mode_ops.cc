// Classic Xen's network modes (bridge, route, nat) on hvnet's networks, and the xl vif
// specification turned into VIFs: the rules, with XenAPI-style errors naming what was wrong.
#include <arpa/inet.h>

#include <algorithm>
#include <regex>
#include <set>

#include "model/ops.h"
#include "model/records.h"
#include "model/xl_vif.h"
#include "util/ipv4.h"

namespace hvnet::model {

namespace {

bool overlaps(const Subnet4& a, const Subnet4& b) {
  const int p = std::min(a.prefix, b.prefix);
  return (a.address & ipv4_mask(p)) == (b.address & ipv4_mask(p));
}

std::vector<std::string> attached_vifs(const Txn& t, const std::string& net) {
  std::vector<std::string> out;
  for (const auto& v : t.where("VIF", "network", net))
    if (t.get(v)->rec.value("currently_attached", false)) out.push_back(v);
  return out;
}

}  // namespace

std::optional<Subnet4> parse_subnet4(const std::string& text) {
  const size_t slash = text.find('/');
  if (slash == std::string::npos || slash + 1 >= text.size() || text.size() - slash > 3)
    return std::nullopt;
  const std::string len = text.substr(slash + 1);
  if (len.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
  const int prefix = std::stoi(len);
  auto a = ipv4_from_text(text.substr(0, slash));
  if (!a || prefix < 8 || prefix > 30) return std::nullopt;
  const uint32_t host = *a & ~ipv4_mask(prefix);
  if (host == 0 || host == ~ipv4_mask(prefix)) return std::nullopt;  // network or broadcast
  return Subnet4{*a, prefix};
}

std::optional<Subnet4> network_subnet(const json& network) {
  return parse_subnet4(string_field(network, "subnet"));
}

std::string network_mode(const json& network) {
  const std::string m = string_field(network, "mode");
  return m.empty() ? "bridge" : m;
}

Result<std::string> check_network_mode(const Txn& t, const std::string& net,
                                       const std::string& value) {
  auto m = match_enum(value, {"bridge", "route", "nat"});
  if (!m) return make_error("INVALID_VALUE", {"mode", value});
  const json& n = t.get(net)->rec;
  if (*m == network_mode(n)) return *m;
  if (auto vifs = attached_vifs(t, net); !vifs.empty())
    return make_error("NETWORK_CONTAINS_VIF", vifs);
  // A routed or NAT network lives inside the host: no uplink, no tunnel.
  if (*m != "bridge")
    if (auto pifs = t.where("PIF", "network", net); !pifs.empty())
      return make_error("NETWORK_CONTAINS_PIF", pifs);
  if (*m == "nat" && !network_subnet(n))
    return make_error("INVALID_VALUE", {"mode", "nat needs the network's subnet first"});
  return *m;
}

Status check_network_subnet(const Txn& t, const std::string& net, const std::string& value) {
  if (value.empty()) {
    if (network_mode(t.get(net)->rec) == "nat")
      return make_error("INVALID_VALUE", {"subnet", "a nat network needs one"});
    return ok_status();
  }
  auto s = parse_subnet4(value);
  if (!s) return make_error("INVALID_CIDR_ADDRESS_SPECIFIED", {"subnet", value});
  for (const auto& other : t.all_of("network")) {
    if (other == net) continue;
    auto o = network_subnet(t.get(other)->rec);
    if (o && overlaps(*s, *o))
      return make_error("INVALID_VALUE", {"subnet", value + " overlaps network " + other});
  }
  // Nor the host's own interfaces.
  for (const auto& p : t.all_of("PIF")) {
    auto sub = pif_ipv4_subnet(t.get(p)->rec);
    if (sub && overlaps(*s, Subnet4{sub->first, sub->second}))
      return make_error("INVALID_VALUE", {"subnet", value + " overlaps PIF " + p});
  }
  return ok_status();
}

Result<json> check_port_forwards(const Txn& t, const std::string& net, const json& value) {
  constexpr size_t kMaxForwards = 64;
  if (value.size() > kMaxForwards)
    return make_error("INVALID_VALUE",
                      {"port_forwards", "at most " + std::to_string(kMaxForwards)});
  static const std::regex re("^(tcp|udp):([0-9]{1,5})=([0-9.]{7,15}):([0-9]{1,5})$");
  auto sub = network_subnet(t.get(net)->rec);
  std::set<std::string> taken;  // proto:port of the other networks
  for (const auto& other : t.all_of("network"))
    if (other != net)
      for (const auto& f : t.get(other)->rec.value("port_forwards", json::array()))
        taken.insert(f.get<std::string>().substr(0, f.get<std::string>().find('=')));
  std::set<std::string> out, mine;
  for (const auto& f : value) {
    const std::string s = f.get<std::string>();
    std::smatch m;
    if (!std::regex_match(s, m, re)) return make_error("INVALID_VALUE", {"port_forwards", s});
    const long from = std::stol(m[2]), to = std::stol(m[4]);
    auto addr = ipv4_from_text(m[3]);
    if (from < 1 || from > 65535 || to < 1 || to > 65535 || !addr)
      return make_error("INVALID_VALUE", {"port_forwards", s});
    if (!sub || !overlaps(*sub, Subnet4{*addr, 32}) || *addr == sub->address)
      return make_error("INVALID_VALUE", {"port_forwards", s + " (not a VM address of subnet)"});
    const std::string key = m[1].str() + ":" + m[2].str();
    if (taken.count(key) || !mine.insert(key).second)
      return make_error("INVALID_VALUE", {"port_forwards", s + " (host port taken)"});
    out.insert(s);
  }
  return json(std::vector<std::string>(out.begin(), out.end()));
}

Status check_vifname(const Txn& t, const std::string& name) {
  static const std::regex re("^[A-Za-z0-9_.-]{1,15}$");
  if (!std::regex_match(name, re)) return make_error("INVALID_VALUE", {"vifname", name});
  if (!t.where("VIF", "vifname", name).empty() || !t.where("PIF", "device", name).empty() ||
      !t.where("network", "bridge", name).empty())
    return make_error("INVALID_VALUE", {"vifname", name + " is in use"});
  return ok_status();
}

Status refuse_internal_network(const Txn& t, const std::string& net) {
  const Object* n = t.get(net, "network");
  if (n && network_mode(n->rec) != "bridge")
    return make_error("NETWORK_INCOMPATIBLE_MODE", {net, network_mode(n->rec)});
  return ok_status();
}

Result<std::vector<std::string>> vifs_from_xl(Txn& t, const std::string& vm,
                                              const std::vector<XlVif>& specs) {
  if (!t.get(vm, "VM")) return make_error("HANDLE_INVALID", {"VM", vm});
  std::vector<std::string> made;
  for (const auto& x : specs) {
    std::string net;
    if (!x.bridge.empty()) {
      auto n = t.where("network", "bridge", x.bridge);
      if (n.empty())
        return make_error("INVALID_VALUE", {"bridge", x.bridge + " (no such network)"});
      net = n.front();
    } else if (!x.script.empty() && x.script != "bridge") {
      // The host's network of the script's mode (the first by bridge name).
      std::string best;
      for (const auto& n : t.all_of("network")) {
        const json& r = t.get(n)->rec;
        if (network_mode(r) == x.script &&
            (best.empty() || r["bridge"] < t.get(best)->rec["bridge"]))
          best = n;
      }
      if (best.empty())
        return make_error("INVALID_VALUE", {"script", "vif-" + x.script + " (no " + x.script +
                                                          " network on this host)"});
      net = best;
    } else {
      auto n = t.where("network", "bridge", "xenbr0");
      if (n.empty()) return make_error("INVALID_VALUE", {"bridge", "xenbr0 (no such network)"});
      net = n.front();
    }
    const std::string mode = network_mode(t.get(net)->rec);
    if (!x.script.empty() && x.script != mode)
      return make_error(
          "INVALID_VALUE",
          {"script", "vif-" + x.script + " on " + t.get(net)->rec["bridge"].get<std::string>() +
                         ", a " + mode + " network"});
    // The VM's lowest free device number.
    std::set<int64_t> used;
    for (const auto& v : t.where("VIF", "VM", vm))
      used.insert(std::stoll(t.get(v)->rec["device"].get<std::string>()));
    int64_t device = 0;
    while (used.count(device)) ++device;
    json rec = {{"VM", vm},
                {"network", net},
                {"device", std::to_string(device)},
                {"MAC", x.mac},
                {"vifname", x.vifname}};
    if (x.rate_kbps) {
      rec["qos_algorithm_type"] = "ratelimit";
      rec["qos_algorithm_params"] = {{"kbps", std::to_string(x.rate_kbps)},
                                     {"timeslice_us", std::to_string(x.rate_interval_us)}};
    }
    auto v = vif_create(t, rec);
    if (!v) return v.error();
    if (rec.contains("qos_algorithm_params"))  // the same checks as set_ calls
      for (const char* f : {"qos_algorithm_type", "qos_algorithm_params"})
        if (auto st = set_field(t, v.value(), f, rec[f]); !st) return st.error();
    if (!x.ips.empty())
      if (auto st = vif_set_allowed(t, v.value(), "ipv4", json(x.ips)); !st) return st.error();
    made.push_back(v.value());
  }
  return made;
}

}  // namespace hvnet::model
