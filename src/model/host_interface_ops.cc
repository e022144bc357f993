// Host interfaces and logical networks (hvnet): services of a host interface and roles of a
// network (one vocabulary, model/services.h), VM and non-VM networks, required networks and the
// host state they give, NIC labels. The rules a network engineer from vSphere or RHV expects,
// spelled on XenAPI's PIF and network.
#include <regex>
#include <set>

#include "model/ops.h"
#include "model/records.h"
#include "model/services.h"

namespace hvnet::model {

namespace {

std::set<std::string> as_set(const json& items) {
  std::set<std::string> out;
  if (items.is_array())
    for (const auto& i : items)
      if (i.is_string()) out.insert(i.get<std::string>());
  return out;
}

json as_json(const std::set<std::string>& s) {
  return json(std::vector<std::string>(s.begin(), s.end()));
}

bool is_management_network(const Txn& t, const std::string& net) {
  for (const auto& p : t.where("PIF", "network", net))
    if (t.get(p)->rec.value("management", false)) return true;
  return false;
}

// The stored part of a services/roles value: known names, "management" only where it already
// holds (it is PIF.management, moved by host.management_reconfigure), at most every service once.
Result<std::set<std::string>> stored_services(const std::string& field, const json& value,
                                              bool management_holds) {
  std::set<std::string> out;
  for (const auto& s : as_set(value)) {
    if (!is_service(s)) return make_error("INVALID_VALUE", {field, s});
    if (s == kServiceManagement) {
      if (!management_holds)
        return make_error("INVALID_VALUE", {field,
                                            "management (the management interface moves with "
                                            "host.management_reconfigure)"});
      continue;
    }
    out.insert(s);
  }
  return out;
}

// Another PIF of `host` than those in `except` serving `service` (its own or its network's role).
std::string serving(const Txn& t, const std::string& host, const std::string& service,
                    const std::set<std::string>& except) {
  for (const auto& p : t.where("PIF", "host", host))
    if (!except.count(p) && pif_services(t, p).count(service)) return p;
  return "";
}

bool label_ok(const std::string& s) {
  static const std::regex re("^[A-Za-z0-9_.-]{1,64}$");
  return std::regex_match(s, re);
}

// A NIC a label can attach networks to: this host's physical PIF or bond master, not a member.
bool labelled_nic(const Txn& t, const std::string& pif, const json& r) {
  if (r.value("VLAN", int64_t(-1)) >= 0 || !string_field(r, "bond_slave_of").empty()) return false;
  return r.value("physical", false) || t.any("Bond", "master", pif);
}

}  // namespace

std::set<std::string> pif_services(const Txn& t, const std::string& pif) {
  const Object* o = t.get(pif, "PIF");
  if (!o) return {};
  std::set<std::string> s = as_set(o->rec.value("services", json::array()));
  if (o->rec.value("management", false)) s.insert(std::string(kServiceManagement));
  if (const Object* n = t.get(string_field(o->rec, "network"), "network"))
    for (const auto& r : as_set(n->rec.value("roles", json::array()))) s.insert(r);
  return s;
}

json shown_services(const Txn& t, const std::string& uuid) {
  const Object* o = t.get(uuid);
  if (!o) return json::array();
  if (o->cls == "PIF") {
    auto s = as_set(o->rec.value("services", json::array()));
    if (o->rec.value("management", false)) s.insert(std::string(kServiceManagement));
    return as_json(s);
  }
  auto s = as_set(o->rec.value("roles", json::array()));
  if (is_management_network(t, uuid)) s.insert(std::string(kServiceManagement));
  return as_json(s);
}

Result<json> check_pif_services(const Txn& t, const std::string& pif, const json& value) {
  const json& r = t.get(pif)->rec;
  auto s = stored_services("services", value, r.value("management", false));
  if (!s) return s.error();
  if (!s.value().empty() && !pif_has_ip_config(r))
    return make_error("PIF_HAS_NO_NETWORK_CONFIGURATION", {pif});
  for (const auto& service : s.value())
    if (auto other = serving(t, string_field(r, "host"), service, {pif}); !other.empty())
      return make_error("HOST_SERVICE_ALREADY_ASSIGNED", {service, other});
  return as_json(s.value());
}

Result<json> check_network_roles(const Txn& t, const std::string& net, const json& value) {
  auto s = stored_services("roles", value, is_management_network(t, net));
  if (!s) return s.error();
  const auto have = as_set(t.get(net)->rec.value("roles", json::array()));
  const auto pifs = t.where("PIF", "network", net);
  const std::set<std::string> own(pifs.begin(), pifs.end());
  for (const auto& role : s.value()) {
    if (have.count(role)) continue;
    // One network per role in the pool.
    for (const auto& other : t.all_of("network"))
      if (other != net && as_set(t.get(other)->rec.value("roles", json::array())).count(role))
        return make_error("NETWORK_ROLE_ALREADY_ASSIGNED", {role, other});
    // And on each host the role's service is on this network's interface alone.
    for (const auto& p : pifs)
      if (auto other = serving(t, string_field(t.get(p)->rec, "host"), role, own); !other.empty())
        return make_error("HOST_SERVICE_ALREADY_ASSIGNED", {role, other});
  }
  return as_json(s.value());
}

bool is_vm_network(const json& network) {
  return network.value("VM_network", true);
}

bool releases_nic(const Txn& t, const json& pif) {
  if (!pif.value("physical", false)) return false;
  const Object* n = t.get(string_field(pif, "network"), "network");
  return n && !is_vm_network(n->rec);
}

Status refuse_non_vm_nic(const Txn& t, const std::string& pif) {
  const Object* o = t.get(pif, "PIF");
  if (o && releases_nic(t, o->rec))
    return make_error("PIF_CARRIES_NON_VM_NETWORK", {pif, string_field(o->rec, "network")});
  return ok_status();
}

Status check_vm_network(const Txn& t, const std::string& net, bool vm) {
  if (vm) return ok_status();
  if (auto vifs = t.where("VIF", "network", net); !vifs.empty())
    return make_error("NETWORK_CONTAINS_VIF", vifs);
  // Its plain NICs leave the switch: nothing else may ride on them.
  for (const auto& p : t.where("PIF", "network", net)) {
    const json& r = t.get(p)->rec;
    if (!r.value("physical", false)) continue;
    if (!string_field(r, "bond_slave_of").empty() || t.any("VLAN", "tagged_PIF", p) ||
        t.any("port_mirror", "destination_PIF", p))
      return make_error("PIF_CARRIES_NON_VM_NETWORK", {p, net});
    for (const char* f : {"ingress_sources", "egress_sources"})
      for (const auto& m : t.all_of("port_mirror"))
        if (as_set(t.get(m)->rec.value(f, json::array())).count(p))
          return make_error("PIF_CARRIES_NON_VM_NETWORK", {p, net});
  }
  return ok_status();
}

Status check_labels(const std::string& field, const json& value) {
  constexpr size_t kMaxLabels = 16;
  if (value.is_array()) {
    if (value.size() > kMaxLabels)
      return make_error("INVALID_VALUE", {field, "at most " + std::to_string(kMaxLabels)});
    for (const auto& l : value)
      if (!label_ok(l.get<std::string>())) return make_error("INVALID_VALUE", {field, l});
  } else if (!value.get<std::string>().empty() && !label_ok(value.get<std::string>())) {
    return make_error("INVALID_VALUE", {field, value});
  }
  return ok_status();
}

Status check_label_vlan(const Txn& t, const std::string& net, const json& next) {
  const std::string label = string_field(next, "label");
  const int64_t tag = next.value("label_VLAN", int64_t(0));
  if (tag < 0 || tag > 4094) return make_error("VLAN_TAG_INVALID", {std::to_string(tag)});
  if (!label.empty() && tag == 0)
    return make_error("INVALID_VALUE",
                      {"label", label + " (a labelled network needs label_VLAN 1..4094)"});
  const json& was = t.get(net)->rec;
  if (was.value("label_VLAN", int64_t(0)) != tag)
    if (auto pifs = t.where("PIF", "network", net); !pifs.empty())
      return make_error("NETWORK_CONTAINS_PIF", pifs);
  return ok_status();
}

Status attach_labels(Txn& t, const std::string& network, const std::string& pif) {
  std::vector<std::string> nets;
  if (!network.empty())
    nets.push_back(network);
  else
    for (const auto& n : t.all_of("network"))
      if (!string_field(t.get(n)->rec, "label").empty()) nets.push_back(n);
  std::vector<std::string> nics;
  if (!pif.empty())
    nics.push_back(pif);
  else
    nics = t.all_of("PIF");
  for (const auto& net : nets) {
    const json n = t.get(net)->rec;
    const std::string label = string_field(n, "label");
    const int64_t tag = n.value("label_VLAN", int64_t(0));
    if (label.empty() || tag < 1 || tag > 4094) continue;
    for (const auto& p : nics) {
      const Object* o = t.get(p, "PIF");
      if (!o || !labelled_nic(t, p, o->rec) ||
          !as_set(o->rec.value("labels", json::array())).count(label))
        continue;
      const std::string host = string_field(o->rec, "host");
      bool connected = false;
      for (const auto& q : t.where("PIF", "network", net))
        connected |= string_field(t.get(q)->rec, "host") == host;
      if (connected) continue;  // one PIF per network and host: the first labelled NIC wins
      if (auto v = vlan_create(t, p, tag, net); !v) return v.error();
    }
  }
  return ok_status();
}

namespace {
// Whether a PIF has carrier: a plain NIC's own, a VLAN's from its trunk, a bond's from any
// member, a tunnel's when it runs.
bool pif_carrier(const Txn& t, const std::string& pif, const CarrierOf& carrier, int depth = 0) {
  const Object* o = t.get(pif, "PIF");
  if (!o || depth > 4) return false;
  const json& r = o->rec;
  if (const Object* v = t.get(string_field(r, "VLAN_master_of"), "VLAN"))
    return pif_carrier(t, string_field(v->rec, "tagged_PIF"), carrier, depth + 1);
  auto bonds = t.where("Bond", "master", pif);
  if (!bonds.empty()) {
    for (const auto& m : t.where("PIF", "bond_slave_of", bonds.front()))
      if (carrier(string_field(t.get(m)->rec, "device"))) return true;
    return false;
  }
  for (const auto& tn : t.where("tunnel", "access_PIF", pif)) return tunnel_active(t, tn);
  return carrier(string_field(r, "device"));
}
}  // namespace

std::vector<std::string> missing_required_networks(const Txn& t, const std::string& host,
                                                   const CarrierOf& carrier) {
  std::vector<std::string> missing;
  for (const auto& net : t.where("network", "required", true)) {
    bool have = false;
    for (const auto& p : t.where("PIF", "network", net)) {
      const json& r = t.get(p)->rec;
      if (string_field(r, "host") != host) continue;
      have = r.value("currently_attached", false) && pif_carrier(t, p, carrier);
      break;
    }
    if (!have) missing.push_back(net);
  }
  std::sort(missing.begin(), missing.end());
  return missing;
}

namespace {
const char* network_state_of(const std::vector<std::string>& missing) {
  return missing.empty() ? "operational" : "non-operational";
}
}  // namespace

bool host_network_state_is(const Txn& t, const std::string& host,
                           const std::vector<std::string>& missing) {
  const Object* h = t.get(host, "host");
  return !h || (string_field(h->rec, "network_state") == network_state_of(missing) &&
                h->rec.value("missing_networks", json::array()) == json(missing));
}

bool set_host_network_state(Txn& t, const std::string& host,
                            const std::vector<std::string>& missing) {
  if (host_network_state_is(t, host, missing)) return false;
  t.set_field(host, "network_state", network_state_of(missing));
  t.set_field(host, "missing_networks", json(missing));
  return true;
}

}  // namespace hvnet::model
