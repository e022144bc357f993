// Port mirroring sessions: validation of sources and destination. What a session copies and
// where is the reconciler's (the source ports' mirror taps, the destination's exclusive use).
#include <set>

#include "model/ops.h"
#include "model/records.h"

namespace hvnet::model {

namespace {

constexpr size_t kMaxMirrorSources = 64;

std::string strip_ref(const std::string& ref) {
  return ref.rfind(kRefPrefix, 0) == 0 ? ref.substr(std::string(kRefPrefix).size()) : ref;
}

bool is_port(const Txn& t, const std::string& uuid) {
  return t.get(uuid, "VIF") || t.get(uuid, "PIF");
}

// The sessions other than `self` whose destination is `port`.
bool destination_taken(const Txn& t, const std::string& self, const std::string& port) {
  for (const char* f : {"destination_VIF", "destination_PIF"})
    for (const auto& m : t.where("port_mirror", f, port))
      if (m != self) return true;
  return false;
}

}  // namespace

Result<json> check_mirror_sources(const Txn& t, const std::string& mirror, const json& sources) {
  if (sources.size() > kMaxMirrorSources)
    return make_error("INVALID_VALUE", {"sources", "at most " + std::to_string(kMaxMirrorSources)});
  const Object* m = mirror.empty() ? nullptr : t.get(mirror, "port_mirror");
  std::set<std::string> out;
  for (const auto& s : sources) {
    const std::string uuid = strip_ref(s.get<std::string>());
    if (!is_port(t, uuid))
      return make_error("HANDLE_INVALID", {"VIF or PIF", s.get<std::string>()});
    if (auto st = refuse_non_vm_nic(t, uuid); !st) return st.error();
    if (m && (m->rec["destination_VIF"] == uuid || m->rec["destination_PIF"] == uuid))
      return make_error("INVALID_VALUE", {"sources", uuid + " is the session's destination"});
    out.insert(uuid);
  }
  return json(std::vector<std::string>(out.begin(), out.end()));
}

Result<std::string> port_mirror_create(Txn& t, const json& record) {
  auto made = creation_record(*find_class("port_mirror"), record);
  if (!made) return made.error();
  json r = std::move(made.value());
  const std::string vif = strip_ref(r["destination_VIF"]), pif = strip_ref(r["destination_PIF"]);
  const bool to_vif = !vif.empty() && vif != "NULL", to_pif = !pif.empty() && pif != "NULL";
  if (to_vif == to_pif)
    return make_error("INVALID_VALUE", {"destination", "one of destination_VIF, destination_PIF"});
  if (to_vif && !t.get(vif, "VIF")) return make_error("HANDLE_INVALID", {"VIF", vif});
  if (to_pif && !t.get(pif, "PIF")) return make_error("HANDLE_INVALID", {"PIF", pif});
  if (to_pif)
    if (auto st = refuse_non_vm_nic(t, pif); !st) return st.error();
  r["destination_VIF"] = to_vif ? vif : "";
  r["destination_PIF"] = to_pif ? pif : "";
  const int64_t vlan = r["destination_VLAN"].get<int64_t>();
  if (vlan < 0 || vlan > 4094) return make_error("VLAN_TAG_INVALID", {std::to_string(vlan)});
  if (vlan && to_vif)
    return make_error("INVALID_VALUE",
                      {"destination_VLAN", "a VIF destination receives the copies as sent"});
  const std::string dest = to_vif ? vif : pif;
  if (to_vif && destination_taken(t, "", dest))
    return make_error("INVALID_VALUE",
                      {"destination_VIF", dest + " is another session's destination"});
  for (const char* f : {"ingress_sources", "egress_sources"}) {
    auto srcs = check_mirror_sources(t, "", r[f]);
    if (!srcs) return srcs.error();
    for (const auto& s : srcs.value())
      if (s == dest)
        return make_error("INVALID_VALUE", {f, dest + " is the session's destination"});
    r[f] = srcs.value();
  }
  if (r["ingress_sources"].empty() && r["egress_sources"].empty())
    return make_error("INVALID_VALUE", {"sources", "a session needs a source"});
  const std::string uuid = new_uuid();
  t.put(uuid, Object{"port_mirror", r});
  return uuid;
}

void forget_mirror_port(Txn& t, const std::string& port) {
  for (const char* f : {"destination_VIF", "destination_PIF"})
    for (const auto& m : t.where("port_mirror", f, port)) t.erase(m);
  for (const auto& m : t.all_of("port_mirror")) {
    for (const char* f : {"ingress_sources", "egress_sources"}) {
      json srcs = t.get(m)->rec[f];
      const size_t n = srcs.size();
      for (size_t i = srcs.size(); i-- > 0;)
        if (srcs[i] == port) srcs.erase(i);
      if (srcs.size() != n) t.set_field(m, f, srcs);
    }
  }
}

Status port_mirror_destroy(Txn& t, const std::string& mirror) {
  t.erase(mirror);
  return ok_status();
}

}  // namespace hvnet::model
