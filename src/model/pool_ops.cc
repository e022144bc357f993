// Pool membership on the object model: what a joining host brings, what the pool gives it, and
// what leaves with an ejected host. XenServer's rules and error codes (xapi_pool.ml).
#include <set>

#include "model/ops.h"
#include "model/records.h"

namespace hvnet::model {

namespace {

std::string api_version(const json& host) {
  return std::to_string(host.value("API_version_major", int64_t(0))) + "." +
         std::to_string(host.value("API_version_minor", int64_t(0)));
}

// The network of `pool` with bridge `bridge` ("" if none).
std::string network_by_bridge(const Txn& pool, const std::string& bridge) {
  auto nets = pool.where("network", "bridge", bridge);
  return nets.empty() ? "" : nets.front();
}

}  // namespace

Status pool_join_checks(const Txn& joiner, const json& master_host) {
  if (joiner.all_of("host").size() > 1)
    return make_error("POOL_JOINING_HOST_CANNOT_BE_MASTER_OF_OTHER_HOSTS", {});
  const Object* h = joiner.get(local_host(joiner), "host");
  if (!h) return make_error("POOL_JOINING_HOST_SERVICE_FAILED", {"the joining host has no record"});
  if (api_version(h->rec) != api_version(master_host))
    return make_error("POOL_JOINING_HOST_MUST_HAVE_SAME_API_VERSION",
                      {api_version(h->rec), api_version(master_host)});
  if (!joiner.all_of("Bond").empty()) return make_error("POOL_JOINING_HOST_HAS_BONDS", {});
  if (!joiner.all_of("tunnel").empty()) return make_error("POOL_JOINING_HOST_HAS_TUNNELS", {});
  if (!joiner.all_of("network_sriov").empty())
    return make_error("POOL_JOINING_HOST_HAS_NETWORK_SRIOVS", {});
  for (const auto& v : joiner.all_of("VLAN")) {
    const Object* untagged = joiner.get(string_field(joiner.get(v)->rec, "untagged_PIF"), "PIF");
    if (!untagged || !untagged->rec.value("management", false))
      return make_error("POOL_JOINING_HOST_HAS_NON_MANAGEMENT_VLANS", {});
  }
  for (const auto& vif : joiner.all_of("VIF"))
    if (joiner.get(vif)->rec.value("currently_attached", false))
      return make_error("POOL_JOINING_HOST_CANNOT_HAVE_RUNNING_VMS", {});
  return ok_status();
}

Result<std::string> pool_join(Txn& pool, const Txn& joiner) {
  const std::string host = local_host(joiner);
  if (pool.get(host)) return make_error("POOL_JOINING_HOST_SERVICE_FAILED", {"already a member"});
  pool.put(host, *joiner.get(host));
  // Networks: the pool's of the same bridge, else the joiner's own (a NIC the pool has nowhere).
  std::map<std::string, std::string> net_of;
  for (const auto& n : joiner.all_of("network")) {
    const std::string same = network_by_bridge(pool, string_field(joiner.get(n)->rec, "bridge"));
    net_of[n] = same.empty() ? n : same;
    if (same.empty()) pool.put(n, *joiner.get(n));
  }
  auto remap = [&](json& rec, const char* field) {
    auto it = net_of.find(string_field(rec, field));
    if (it != net_of.end()) rec[field] = it->second;
  };
  for (const char* cls : {"PIF", "VLAN", "VM", "VIF"}) {
    for (const auto& u : joiner.all_of(cls)) {
      Object o = *joiner.get(u);
      if (o.cls == "PIF" || o.cls == "VIF") remap(o.rec, "network");
      pool.put(u, std::move(o));
    }
  }
  // The pool's bonds, on the joiner's PIFs of the same devices.
  // The joiner's PIF of a device itself (not one of the VLANs on it).
  auto pif_of_device = [&](const std::string& device) -> std::string {
    auto p = pool.where("PIF", Match{{"device", device}, {"host", host}, {"VLAN", int64_t(-1)}});
    return p.empty() ? "" : p.front();
  };
  std::set<std::string> bonded;  // networks of bonds the joiner now has
  for (const auto& b : pool.all_of("Bond")) {
    const json& br = pool.get(b)->rec;
    const Object* master = pool.get(string_field(br, "master"), "PIF");
    if (!master || string_field(master->rec, "host") == host) continue;
    const std::string net = string_field(master->rec, "network");
    if (bonded.count(net)) continue;
    std::vector<std::string> members;
    for (const auto& m : pool.where("PIF", "bond_slave_of", b))
      if (auto p = pif_of_device(string_field(pool.get(m)->rec, "device")); !p.empty())
        members.push_back(p);
    if (members.size() < 2) continue;  // this host lacks the NICs: the bond is not for it
    auto made = bond_create(pool, net, members, "", string_field(br, "mode"),
                            br.value("properties", json::object()));
    if (!made) return made.error();
    bonded.insert(net);
  }
  // The pool's VLANs, on the joiner's PIF of the device that carries them elsewhere.
  std::set<std::string> vlan_nets;
  for (const auto& v : pool.all_of("VLAN")) {
    const json& vr = pool.get(v)->rec;
    const Object* untagged = pool.get(string_field(vr, "untagged_PIF"), "PIF");
    const Object* tagged = pool.get(string_field(vr, "tagged_PIF"), "PIF");
    if (!untagged || !tagged || string_field(tagged->rec, "host") == host) continue;
    const std::string net = string_field(untagged->rec, "network");
    if (vlan_nets.count(net)) continue;
    const std::string trunk = pif_of_device(string_field(tagged->rec, "device"));
    if (trunk.empty()) continue;
    bool connected = false;
    for (const auto& p : pool.where("PIF", "network", net))
      connected |= string_field(pool.get(p)->rec, "host") == host;
    if (connected) continue;
    auto made = vlan_create(pool, trunk, vr.value("tag", int64_t(0)), net);
    if (!made) return made.error();
    vlan_nets.insert(net);
  }
  // The pool's labelled networks, on the joiner's NICs of the same labels.
  if (auto st = attach_labels(pool); !st) return st.error();
  return host;
}

Result<std::string> pool_bond_create(Txn& t, const std::string& network,
                                     const std::vector<std::string>& members,
                                     const std::string& mac, const std::string& mode,
                                     const json& properties) {
  auto first = bond_create(t, network, members, mac, mode, properties);
  if (!first) return first;
  const std::string host = string_field(t.get(members.front())->rec, "host");
  std::vector<std::string> devices;
  for (const auto& m : members) devices.push_back(string_field(t.get(m)->rec, "device"));
  for (const auto& other : t.all_of("host")) {
    if (other == host) continue;
    bool connected = false;
    for (const auto& p : t.where("PIF", "network", network))
      connected |= string_field(t.get(p)->rec, "host") == other;
    if (connected) continue;
    std::vector<std::string> same;
    for (const auto& d : devices) {
      auto p = t.where("PIF", Match{{"device", d}, {"host", other}, {"VLAN", int64_t(-1)}});
      if (p.empty() || !string_field(t.get(p.front())->rec, "bond_slave_of").empty()) break;
      same.push_back(p.front());
    }
    if (same.size() != devices.size()) continue;  // that host lacks the NICs: not for it
    // Every host or none: one that cannot have the bond refuses the whole call.
    if (auto b = bond_create(t, network, same, "", mode, properties); !b) return b.error();
  }
  return first;
}

Status pool_eject(Txn& pool, const std::string& host) {
  for (const auto& p : pool.all_of("pool"))
    if (string_field(pool.get(p)->rec, "master") == host)
      return make_error("HOST_CANNOT_DESTROY_SELF", {host});
  const auto vms = pool.where("VM", "resident_on", host);
  for (const auto& vm : vms)
    for (const auto& vif : pool.where("VIF", "VM", vm))
      if (pool.get(vif)->rec.value("currently_attached", false))
        return make_error("OPERATION_NOT_ALLOWED", {"VM resident on host"});
  for (const auto& vm : vms) {
    for (const auto& vif : pool.where("VIF", "VM", vm)) pool.erase(vif);
    pool.erase(vm);
  }
  for (const auto& pif : pool.where("PIF", "host", host)) {
    for (const auto& v : pool.where("VLAN", "untagged_PIF", pif)) pool.erase(v);
    for (const auto& b : pool.where("Bond", "master", pif)) pool.erase(b);
    for (const char* end : {"access_PIF", "transport_PIF"})
      for (const auto& tn : pool.where("tunnel", end, pif)) pool.erase(tn);
    pool.erase(pif);
  }
  pool.erase(host);
  return ok_status();
}

}  // namespace hvnet::model
