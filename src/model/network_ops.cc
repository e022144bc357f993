#include <algorithm>
#include <regex>
#include <set>

#include "model/ops.h"
#include "model/records.h"
#include "util/split.h"

namespace hvnet::model {

std::string local_host(const Txn& t) {
  if (!t.base().local_host().empty()) return t.base().local_host();
  auto hosts = t.all_of("host");
  return hosts.empty() ? "" : hosts.front();
}

std::string ensure_host(Txn& t, const std::string& hostname) {
  std::string h = local_host(t);
  if (!h.empty()) return h;
  h = new_uuid();
  json r = default_record(*find_class("host"));
  r["name_label"] = hostname;
  r["hostname"] = hostname;
  t.put(h, Object{"host", r});
  return h;
}

std::string ensure_pool(Txn& t, const std::string& master) {
  auto pools = t.all_of("pool");
  if (!pools.empty()) return pools.front();
  std::string p = new_uuid();
  json r = default_record(*find_class("pool"));
  r["master"] = master;
  t.put(p, Object{"pool", r});
  return p;
}

void refresh_host_identity(Txn& t, const std::string& host) {
  const Object* o = t.get(host, "host");
  if (!o) return;
  json r = o->rec;
  // What SDKs read right after login to know whom they talk to.
  r["enabled"] = true;
  r["API_version_major"] = kApiVersionMajor;
  r["API_version_minor"] = kApiVersionMinor;
  r["API_version_vendor"] = "XenSource";
  r["API_version_vendor_implementation"] = json::object();
  r["software_version"] = {{"product_brand", "hvnet"},
                           {"product_version", kHvnetVersion},
                           {"platform_name", "hvnet"},
                           {"platform_version", kHvnetVersion},
                           {"xapi", "1.20"},
                           {"network_backend", "hvnet"},
                           {"hostname", r.value("hostname", "")}};
  for (const char* k : {"capabilities", "allowed_operations"})
    if (!r.contains(k)) r[k] = json::array();
  for (const char* k : {"cpu_info", "current_operations"})
    if (!r.contains(k)) r[k] = json::object();
  if (!r.contains("tags")) r["tags"] = json::array();
  if (r != o->rec) t.put(host, Object{"host", r});
  // VMs from before resident_on: they run here.
  for (const auto& vm : t.all_of("VM")) {
    const json& v = t.get(vm)->rec;
    if (!v.contains("resident_on")) t.set_field(vm, "resident_on", host);
  }
}

namespace {

bool bridge_in_use(const Txn& t, const std::string& bridge) {
  return t.any("network", "bridge", bridge);
}

// The first prefix<N> no network uses: index probes, none of which reads a record.
std::string free_bridge(const Txn& t, const std::string& prefix) {
  for (int i = 0;; ++i) {
    std::string b = prefix + std::to_string(i);
    if (!bridge_in_use(t, b)) return b;
  }
}

Result<int64_t> check_mtu(int64_t mtu) {
  if (mtu <= 0) return int64_t(1500);  // xapi's rule: a non-positive MTU means the default
  if (mtu < kMinMtu || mtu > kMaxMtu)
    return make_error("MTU_INVALID",
                      {std::to_string(mtu), std::to_string(kMinMtu), std::to_string(kMaxMtu)});
  return mtu;
}

}  // namespace

Result<std::string> network_create(Txn& t, const json& record) {
  const ClassSpec& cls = *find_class("network");
  if (!record.is_object()) return make_error("FIELD_TYPE_ERROR", {"record"});
  json r = new_network_record();
  for (const auto& [k, v] : record.items()) {
    const FieldSpec* f = cls.field(k);
    if (!f || f->derived || f->wire == "uuid") continue;  // unknown/server fields are ignored
    auto c = coerce(*f, v);
    if (!c) return c.error();
    r[k] = c.value();
  }
  auto mtu = check_mtu(r["MTU"].get<int64_t>());
  if (!mtu) return mtu.error();
  r["MTU"] = mtu.value();
  std::string bridge = r["bridge"].get<std::string>();
  if (bridge.empty()) {
    r["bridge"] = free_bridge(t, "xapi");
  } else {
    static const std::regex reserved("^(xen|xapi|vif|tap|eth).*");
    static const std::regex valid("^[A-Za-z0-9_.-]+$");
    if (bridge.size() > 15 || std::regex_match(bridge, reserved) ||
        !std::regex_match(bridge, valid))
      return make_error("INVALID_VALUE", {"bridge", bridge});
    if (bridge_in_use(t, bridge)) return make_error("BRIDGE_NAME_EXISTS", {bridge});
  }
  if (r["purpose"].size() > 0) {
    for (const auto& p : r["purpose"])
      if (p != "nbd" && p != "insecure_nbd") return make_error("INVALID_VALUE", {"purpose", p});
    if (r["purpose"].size() > 1)
      return make_error("NETWORK_INCOMPATIBLE_PURPOSES", {"nbd", "insecure_nbd"});
  }
  std::string uuid = new_uuid();
  t.put(uuid, Object{"network", r});
  // hvnet's fields given at creation pass the checks a later set_ would (an error drops the Txn).
  for (const char* k : {"external_VTEPs", "trunk_VLANs", "native_VLAN", "promiscuous_mode",
                        "MAC_changes", "forged_transmits", "shaping_average", "shaping_peak",
                        "shaping_burst", "failover_order", "roles", "VM_network", "required",
                        "label_VLAN", "label", "subnet", "mode", "port_forwards"})
    if (record.contains(k))
      if (auto st = set_field(t, uuid, k, r[k]); !st) return st.error();
  return uuid;
}

Status network_destroy(Txn& t, const std::string& net) {
  auto vifs = t.where("VIF", "network", net);
  if (!vifs.empty()) return make_error("NETWORK_CONTAINS_VIF", vifs);
  auto pifs = t.where("PIF", "network", net);
  if (!pifs.empty()) return make_error("NETWORK_CONTAINS_PIF", pifs);
  t.erase(net);
  return ok_status();
}

Status network_add_purpose(Txn& t, const std::string& net, const std::string& purpose) {
  if (purpose != "nbd" && purpose != "insecure_nbd")
    return make_error("INVALID_VALUE", {"purpose", purpose});
  json p = t.get(net)->rec["purpose"];
  for (const auto& have : p) {
    if (have == purpose) return ok_status();
    return make_error("NETWORK_INCOMPATIBLE_PURPOSES", {purpose, have.get<std::string>()});
  }
  p.push_back(purpose);
  t.set_field(net, "purpose", p);
  return ok_status();
}

Status network_remove_purpose(Txn& t, const std::string& net, const std::string& purpose) {
  json p = json::array();
  for (const auto& have : t.get(net)->rec["purpose"])
    if (have != purpose) p.push_back(have);
  t.set_field(net, "purpose", p);
  return ok_status();
}

Result<VlanRanges> parse_trunk_vlans(const json& items) {
  constexpr size_t kMaxItems = 256;
  if (items.size() > kMaxItems)
    return make_error("INVALID_VALUE", {"trunk_VLANs", "at most " + std::to_string(kMaxItems)});
  VlanRanges r;
  for (const auto& it : items) {
    const std::string s = it.get<std::string>();
    auto number = [&](const std::string& d) -> std::optional<long> {
      if (d.empty() || d.size() > 5 || d.find_first_not_of("0123456789") != std::string::npos)
        return std::nullopt;
      return std::stol(d);
    };
    const size_t dash = s.find('-');
    auto a = number(s.substr(0, dash));
    auto b = dash == std::string::npos ? a : number(s.substr(dash + 1));
    if (!a || !b || *b < *a) return make_error("INVALID_VALUE", {"trunk_VLANs", s});
    if (*a < 1 || *b > 4094) return make_error("VLAN_TAG_INVALID", {s});
    r.emplace_back(uint16_t(*a), uint16_t(*b));
  }
  std::sort(r.begin(), r.end());
  VlanRanges merged;
  for (auto [a, b] : r) {
    if (!merged.empty() && a <= merged.back().second + 1)
      merged.back().second = std::max(merged.back().second, b);
    else
      merged.emplace_back(a, b);
  }
  return merged;
}

bool vlan_in(const VlanRanges& r, uint16_t tag) {
  if (r.empty()) return tag >= 1 && tag <= 4094;
  for (auto [a, b] : r)
    if (tag >= a && tag <= b) return true;
  return false;
}

std::string trunk_pif(const Txn& t, const std::string& network, const std::string& host) {
  for (const auto& p : t.where("PIF", Match{{"network", network}, {"VLAN", kTrunkVlanTag}}))
    if (t.get(p)->rec["host"] == host) return p;
  return "";
}

Status set_field(Txn& t, const std::string& uuid, const std::string& field, const json& value) {
  const Object* o = t.get(uuid);
  if (o->cls == "network" && field == "MTU") {
    auto mtu = check_mtu(value.get<int64_t>());
    if (!mtu) return mtu.error();
    // A tunnelled network's frames must fit its transports once wrapped.
    if (const int64_t limit = tunnel_mtu_limit(t, uuid); mtu.value() > limit)
      return make_error("MTU_INVALID", {std::to_string(mtu.value()), std::to_string(kMinMtu),
                                        std::to_string(limit)});
    t.set_field(uuid, field, mtu.value());
    // VIFs and VLAN/physical PIFs on the network follow its MTU, as in XenServer.
    for (const auto& vif : t.where("VIF", "network", uuid)) t.set_field(vif, "MTU", mtu.value());
    for (const auto& pif : t.where("PIF", "network", uuid)) {
      t.set_field(pif, "MTU", mtu.value());
      // So do the networks tunnelled over it, down to what still fits.
      for (const auto& tn : t.where("tunnel", "transport_PIF", pif)) {
        const std::string inner = tunnel_network(t, tn);
        const Object* n = t.get(inner, "network");
        const int64_t limit = tunnel_mtu_limit(t, inner);
        if (n && n->rec["MTU"].get<int64_t>() > limit)
          if (auto st = set_field(t, inner, "MTU", limit); !st) return st;
      }
    }
    return ok_status();
  }
  if (o->cls == "network" && field == "external_VTEPs") {
    if (auto st = check_external_vteps(value); !st) return st;
    std::set<std::string> unique(value.begin(), value.end());
    t.set_field(uuid, field, json(std::vector<std::string>(unique.begin(), unique.end())));
    return ok_status();
  }
  if (o->cls == "network" && field == "trunk_VLANs") {
    auto r = parse_trunk_vlans(value);
    if (!r) return r.error();
    json items = json::array();
    for (auto [a, b] : r.value())
      items.push_back(a == b ? std::to_string(a) : std::to_string(a) + "-" + std::to_string(b));
    t.set_field(uuid, field, items);
    return ok_status();
  }
  for (const auto& [policy, dflt] : kSecurityPolicyDefaults) {
    if (o->cls != "network" || field != policy) continue;
    auto v = match_enum(value.get<std::string>(), {"reject", "accept"});
    if (!v) return make_error("INVALID_VALUE", {field, value.get<std::string>()});
    t.set_field(uuid, field, *v);
    return ok_status();
  }
  if (o->cls == "network" && field.starts_with("shaping_")) {
    // Each 0..10^8; a peak, when set, no lower than the average.
    const int64_t v = value.get<int64_t>();
    if (v < 0 || v > 100000000) return make_error("INVALID_VALUE", {field, std::to_string(v)});
    json next = o->rec;
    next[field] = v;
    const int64_t avg = next.value("shaping_average", int64_t(0));
    const int64_t peak = next.value("shaping_peak", int64_t(0));
    if (peak && peak < avg)
      return make_error("INVALID_VALUE",
                        {field, std::to_string(v) + " (peak " + std::to_string(peak) +
                                    " is below average " + std::to_string(avg) + ")"});
  }
  if (o->cls == "port_mirror" && (field == "ingress_sources" || field == "egress_sources")) {
    auto srcs = check_mirror_sources(t, uuid, value);
    if (!srcs) return srcs.error();
    t.set_field(uuid, field, srcs.value());
    return ok_status();
  }
  if (o->cls == "PIF" && field == "services") {
    auto s = check_pif_services(t, uuid, value);
    if (!s) return s.error();
    t.set_field(uuid, field, s.value());
    return ok_status();
  }
  if (o->cls == "network" && field == "roles") {
    auto s = check_network_roles(t, uuid, value);
    if (!s) return s.error();
    t.set_field(uuid, field, s.value());
    return ok_status();
  }
  if (o->cls == "network" && field == "VM_network")
    if (auto st = check_vm_network(t, uuid, value.get<bool>()); !st) return st;
  if ((o->cls == "network" && field == "label") || (o->cls == "PIF" && field == "labels")) {
    if (auto st = check_labels(field, value); !st) return st;
    if (o->cls == "PIF") {
      std::set<std::string> unique(value.begin(), value.end());
      t.set_field(uuid, field, json(std::vector<std::string>(unique.begin(), unique.end())));
      return attach_labels(t, "", uuid);
    }
  }
  if (o->cls == "network" && (field == "label" || field == "label_VLAN")) {
    json next = o->rec;
    next[field] = value;
    if (auto st = check_label_vlan(t, uuid, next); !st) return st;
    t.set_field(uuid, field, value);
    return attach_labels(t, uuid);
  }
  if (o->cls == "network" && field == "mode") {
    auto m = check_network_mode(t, uuid, value.get<std::string>());
    if (!m) return m.error();
    t.set_field(uuid, field, m.value());
    return ok_status();
  }
  if (o->cls == "network" && field == "subnet")
    if (auto st = check_network_subnet(t, uuid, value.get<std::string>()); !st) return st;
  if (o->cls == "network" && field == "port_forwards") {
    auto f = check_port_forwards(t, uuid, value);
    if (!f) return f.error();
    t.set_field(uuid, field, f.value());
    return ok_status();
  }
  if (o->cls == "network" && field == "failover_order") {
    // Up to 4 distinct device names, comma-separated; empty: the bond's own policy.
    const std::string v = value.get<std::string>();
    std::set<std::string> seen;
    static const std::regex device("^[A-Za-z0-9_.-]{1,15}$");
    for (const auto& d : split_commas(v))
      if (!std::regex_match(d, device) || !seen.insert(d).second || seen.size() > 4)
        return make_error("INVALID_VALUE", {field, v});
  }
  if (o->cls == "network" && field == "native_VLAN") {
    const int64_t v = value.get<int64_t>();
    if (v < 0 || v > 4094) return make_error("VLAN_TAG_INVALID", {std::to_string(v)});
  }
  if (o->cls == "VIF" && field == "qos_algorithm_type") {
    const std::string v = value.get<std::string>();
    if (!v.empty() && v != "ratelimit") return make_error("INVALID_VALUE", {field, v});
  }
  if (o->cls == "VIF" && field == "qos_algorithm_params") {
    // xapi logs bad values and runs unlimited; we refuse them. kbps: kilobytes per second.
    for (const auto& [k, v] : value.items()) {
      const std::string s = v.get<std::string>();
      // timeslice_us (xapi's too): the token bucket's refill interval, 100 us to 10 s.
      if (k != "kbps" && k != "timeslice_us")
        return make_error("INVALID_VALUE", {"qos_algorithm_params", k + "=" + s});
      if (s.empty() || s.size() > 9 || s.find_first_not_of("0123456789") != std::string::npos ||
          std::stoul(s) == 0 ||
          (k == "timeslice_us" && (std::stoul(s) < 100 || std::stoul(s) > 10000000)))
        return make_error("INVALID_VALUE", {"qos_algorithm_params", k + "=" + s});
    }
  }
  t.set_field(uuid, field, value);
  return ok_status();
}

}  // namespace hvnet::model
