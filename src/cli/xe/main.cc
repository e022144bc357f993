// xe: hvnet's command-line client with XenServer's syntax: `xe <command> key=value …`.
// Every command is a row of one table (name, parameters, description, handler): `xe help`, the
// per-command help and bash completion (tools/xe-completion.bash asks `xe help --minimal` and
// `xe help <command>`) read the same rows. The per-class commands (<class>-list, -param-list,
// -param-get, -param-set, -param-add, -param-remove, -param-clear) come from the record layouts in
// records.h. Output and exit codes follow xe: errors on stderr, exit status 1.
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "cli/xe/args.h"
#include "cli/xe/format.h"
#include "cli/xe/records.h"
#include "cli/xe/rpc_client.h"

namespace {

using json = nlohmann::json;
using hvnet::Error;
using hvnet::Result;
using hvnet::xe::Args;
using hvnet::xe::Label;
using hvnet::xe::Show;
using hvnet::xe::XeField;
using hvnet::xe::XeRecord;

struct UsageError {
  std::string msg;
};

int fail(const Error& e) {
  std::cerr << "Error code: " << e.code << "\n";
  std::string params;
  for (const auto& p : e.params) params += (params.empty() ? "" : ", ") + p;
  std::cerr << "Error parameters: " << params << "\n";
  return 1;
}

std::string strip(const std::string& r) {
  return r.rfind("OpaqueRef:", 0) == 0 ? r.substr(10) : r;
}

bool is_set_label(Label l) {
  return l == Label::kSRO || l == Label::kSRW;
}
bool is_map_label(Label l) {
  return l == Label::kMRO || l == Label::kMRW;
}

// "a,b,c" as a set value.
json split_set(const std::string& v) {
  json out = json::array();
  size_t s = 0;
  while (!v.empty() && s <= v.size()) {
    size_t c = v.find(',', s);
    out.push_back(v.substr(s, c - s));
    if (c == std::string::npos) break;
    s = c + 1;
  }
  return out;
}

// An API key as xe spells it: rx_bytes -> rx-bytes.
std::string dashed(std::string k) {
  std::replace(k.begin(), k.end(), '_', '-');
  return k;
}

class Xe {
 public:
  explicit Xe(hvnet::xe::RpcClient& rpc) : rpc_(rpc) {}

  // Field writes go to the server's set_/add_/remove_ messages (some RO fields have their own,
  // e.g. VIF.set_locking_mode); a field with none is read-only.
  Result<json> call(const std::string& method, json params) {
    auto r = rpc_.session_call(method, std::move(params));
    if (!r && r.error().code == "MESSAGE_METHOD_UNKNOWN") {
      auto dot = method.find('.');
      for (const char* verb : {"set_", "add_to_", "remove_from_", "add_", "remove_"}) {
        if (method.compare(dot + 1, std::strlen(verb), verb) == 0)
          return Error{"FIELD_NOT_WRITABLE", {method.substr(dot + 1 + std::strlen(verb))}};
      }
    }
    return r;
  }
  std::string need(const Args& a, const std::string& key) {
    if (!a.has(key)) throw UsageError{"missing parameter: " + key};
    return a.get(key);
  }
  // uuid= of an object of class cls, as an OpaqueRef (checked by the server).
  Result<json> lookup(const std::string& cls, const std::string& uuid) {
    return call(cls + ".get_by_uuid", json::array({uuid}));
  }
  // The objects the uuids of `keys` (class, parameter) name, as refs in that order.
  Result<json> refs(const Args& a,
                    std::initializer_list<std::pair<const char*, const char*>> keys) {
    json out = json::array();
    for (const auto& [cls, key] : keys) {
      auto r = lookup(cls, need(a, key));
      if (!r) return r.error();
      out.push_back(r.value());
    }
    return out;
  }
  int print_uuid(const Result<json>& r) {
    if (!r) return fail(r.error());
    std::cout << strip(r.value().get<std::string>()) << "\n";
    return 0;
  }
  int done(const Result<json>& r) { return r ? 0 : fail(r.error()); }
  // host-uuid= if given, else the host xe is connected to.
  Result<json> host_arg(const Args& a) {
    if (a.has("host-uuid")) return lookup("host", a.get("host-uuid"));
    return call("session.get_this_host", json::array({rpc_.session()}));
  }
  // A command on the object uuid= names: resolve it, call method(ref), print nothing.
  int on_uuid(const Args& a, const std::string& cls, const std::string& method,
              const char* key = "uuid") {
    auto r = lookup(cls, need(a, key));
    if (!r) return fail(r.error());
    return done(call(method, json::array({r.value()})));
  }

  // `columns`: the default columns (the class's own when empty); `keep`: which records to show.
  int list(const XeRecord& cls, const Args& a, const std::vector<std::string>& columns = {},
           const std::function<bool(const json&)>& keep = {});
  int param_list(const XeRecord& cls, const Args& a);
  int param_get(const XeRecord& cls, const Args& a);
  int param_set(const XeRecord& cls, const Args& a);
  int param_add_remove(const XeRecord& cls, const Args& a, bool add);
  int param_clear(const XeRecord& cls, const Args& a);
  int event_wait(const Args& a);
  // subject-role-add/-remove: the subject uuid= and the role role-name= or role-uuid= names.
  int subject_role(const Args& a, const std::string& method) {
    auto subject = lookup("subject", need(a, "uuid"));
    if (!subject) return fail(subject.error());
    Result<json> role = Error{"ROLE_NOT_FOUND", {}};
    if (a.has("role-uuid")) {
      role = lookup("role", a.get("role-uuid"));
    } else if (a.has("role-name")) {
      auto found = call("role.get_by_name_label", json::array({a.get("role-name")}));
      if (!found) return fail(found.error());
      if (found.value().empty()) return fail(Error{"ROLE_NOT_FOUND", {a.get("role-name")}});
      role = found.value()[0];
    } else {
      throw UsageError{"missing parameter: role-name or role-uuid"};
    }
    if (!role) return fail(role.error());
    return done(call(method, json::array({subject.value(), role.value()})));
  }

 private:
  const XeField& field(const XeRecord& cls, const std::string& name) {
    const XeField* f = cls.field(name);
    if (!f) throw UsageError{"unknown parameter for " + cls.xe + ": " + name};
    return *f;
  }
  // A field as xe prints it; `expensive`: also the fields that cost a call to the server each.
  std::string show(const XeField& f, const json& rec, bool expensive);
  // The record of the object `ref` of class `cls`, fetched once per invocation.
  const json* record_of(const std::string& cls, const json& ref);
  std::vector<std::pair<std::string, std::string>> rows(const std::vector<const XeField*>& fields,
                                                        const json& rec, bool expensive) {
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto* f : fields)
      out.emplace_back(f->name + " " + hvnet::xe::label_text(f->label), show(*f, rec, expensive));
    return out;
  }

  hvnet::xe::RpcClient& rpc_;
  std::map<std::string, json> records_;  // ref -> record (null: none)
};

const json* Xe::record_of(const std::string& cls, const json& ref) {
  if (!ref.is_string() || ref == "OpaqueRef:NULL" || ref == "") return nullptr;
  auto it = records_.find(ref);
  if (it == records_.end()) {
    auto r = call(cls + ".get_record", json::array({ref}));
    it = records_.emplace(ref, r ? r.value() : json()).first;
  }
  return it->second.is_null() ? nullptr : &it->second;
}

std::string Xe::show(const XeField& f, const json& rec, bool expensive) {
  if (f.show == Show::kKbs) {
    if (!expensive) return "<expensive field>";
    std::string source = f.data_source;
    if (auto at = source.find("{device}"); at != std::string::npos)
      source.replace(at, 8, rec.value("device", ""));
    auto v =
        call(f.via_class + ".query_data_source", json::array({rec.value(f.via, json()), source}));
    if (!v || !v.value().is_number()) return "<unknown>";
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3f", v.value().get<double>() / 1024.0);
    return buf;
  }
  if (f.show == Show::kCall) {
    if (!expensive) return "<expensive field>";
    auto self = lookup(f.via_class, rec.value("uuid", ""));
    auto v = self ? call(f.via_class + "." + f.data_source, json::array({self.value()})) : self;
    return v ? hvnet::xe::display_json(v.value()) : "<unknown>";
  }
  if (f.show == Show::kRefNames) {
    json names = json::array();
    for (const auto& ref : rec.value(f.wire, json::array())) {
      const json* o = record_of(f.via_class, ref);
      names.push_back(o ? o->value("name_label", "") : "<not in database>");
    }
    return hvnet::xe::display_json(names);
  }
  const json* from = &rec;
  if (!f.via.empty()) {
    from = record_of(f.via_class, rec.value(f.via, json()));
    if (!from) return "<not in database>";
  }
  const json v = from->value(f.wire, json());
  switch (f.show) {
    case Show::kMapValues: {
      json values = json::array();
      if (v.is_object())
        for (const auto& [k, e] : v.items()) values.push_back(e);
      return hvnet::xe::display_json(values);
    }
    case Show::kMbits:
      return hvnet::xe::display_json(v) + " Mbit/s";
    case Show::kDuplex:
      return v == true ? "full" : from->value("carrier", json()) == true ? "half" : "unknown";
    default:
      return hvnet::xe::display_json(v);
  }
}

int Xe::list(const XeRecord& cls, const Args& a, const std::vector<std::string>& columns,
             const std::function<bool(const json&)>& keep) {
  auto recs = call(cls.cls + ".get_all_records", json::array());
  if (!recs) return fail(recs.error());
  std::vector<const XeField*> shown;
  std::string params = a.get("params");
  if (params == "all") {
    for (const auto& f : cls.fields)
      if (!f.hidden) shown.push_back(&f);
  } else if (!params.empty()) {
    for (const auto& name : split_set(params)) shown.push_back(&field(cls, name));
  } else {
    for (const auto& c : columns.empty() ? cls.list_columns : columns)
      shown.push_back(&field(cls, c));
  }
  // Every other key=value is a filter on the displayed value of that field.
  std::vector<std::pair<const XeField*, std::string>> filters;
  for (const auto& [k, v] : a.kv)
    if (k != "params") filters.emplace_back(&field(cls, k), v);

  std::vector<std::pair<std::string, json>> rows_by_uuid;
  for (const auto& [r, rec] : recs.value().items())
    rows_by_uuid.emplace_back(rec.value("uuid", ""), rec);
  std::sort(rows_by_uuid.begin(), rows_by_uuid.end(),
            [](const auto& x, const auto& y) { return x.first < y.first; });
  std::vector<std::string> minimal;
  for (const auto& [uuid, rec] : rows_by_uuid) {
    bool match = !keep || keep(rec);
    for (const auto& [f, want] : filters) match &= show(*f, rec, true) == want;
    if (!match) continue;
    if (a.minimal)
      minimal.push_back(show(*shown.front(), rec, true));
    else
      std::cout << hvnet::xe::format_record(rows(shown, rec, false));
  }
  if (a.minimal) std::cout << hvnet::xe::format_minimal(minimal) << "\n";
  return 0;
}

int Xe::param_list(const XeRecord& cls, const Args& a) {
  auto r = lookup(cls.cls, need(a, "uuid"));
  if (!r) return fail(r.error());
  auto rec = call(cls.cls + ".get_record", json::array({r.value()}));
  if (!rec) return fail(rec.error());
  std::vector<const XeField*> all;
  for (const auto& f : cls.fields)
    if (!f.hidden) all.push_back(&f);
  std::cout << hvnet::xe::format_record(rows(all, rec.value(), true));
  return 0;
}

int Xe::param_get(const XeRecord& cls, const Args& a) {
  auto r = lookup(cls.cls, need(a, "uuid"));
  if (!r) return fail(r.error());
  const XeField& f = field(cls, need(a, "param-name"));
  auto rec = call(cls.cls + ".get_record", json::array({r.value()}));
  if (!rec) return fail(rec.error());
  if (a.has("param-key")) {
    if (!is_map_label(f.label) || !f.via.empty())
      throw UsageError{"param-key needs a map parameter"};
    const json m = rec.value().value(f.wire, json::object());
    auto it = m.find(a.get("param-key"));
    if (it == m.end()) return fail(Error{"MAP_KEY_NOT_FOUND", {f.name, a.get("param-key")}});
    std::cout << hvnet::xe::display_json(*it) << "\n";
    return 0;
  }
  std::cout << show(f, rec.value(), true) << "\n";
  return 0;
}

int Xe::param_set(const XeRecord& cls, const Args& a) {
  auto r = lookup(cls.cls, need(a, "uuid"));
  if (!r) return fail(r.error());
  for (const auto& [k, v] : a.ordered) {
    if (k == "uuid") continue;
    auto colon = k.find(':');
    if (colon != std::string::npos) {  // other-config:key=value
      const XeField& f = field(cls, k.substr(0, colon));
      std::string key = k.substr(colon + 1);
      if (f.label != Label::kMRW) return fail(Error{"FIELD_NOT_WRITABLE", {f.name}});
      (void)call(cls.cls + ".remove_from_" + f.wire, json::array({r.value(), key}));
      if (auto res = call(cls.cls + ".add_to_" + f.wire, json::array({r.value(), key, v})); !res)
        return fail(res.error());
      continue;
    }
    const XeField& f = field(cls, k);
    if (!f.via.empty() || f.wire.empty()) return fail(Error{"FIELD_NOT_WRITABLE", {f.name}});
    json value = is_set_label(f.label) ? split_set(v) : json(v);
    if (auto res = call(cls.cls + ".set_" + f.wire, json::array({r.value(), value})); !res)
      return fail(res.error());
  }
  return 0;
}

int Xe::param_add_remove(const XeRecord& cls, const Args& a, bool add) {
  auto r = lookup(cls.cls, need(a, "uuid"));
  if (!r) return fail(r.error());
  const XeField& f = field(cls, need(a, "param-name"));
  if (cls.cls == "network" && f.wire == "purpose") {
    return done(call(add ? "network.add_purpose" : "network.remove_purpose",
                     json::array({r.value(), need(a, "param-key")})));
  }
  if (is_set_label(f.label)) {
    return done(call(cls.cls + (add ? ".add_" : ".remove_") + f.wire,
                     json::array({r.value(), need(a, "param-key")})));
  }
  if (!is_map_label(f.label)) return fail(Error{"FIELD_NOT_A_MAP_OR_SET", {f.name}});
  if (!add)
    return done(
        call(cls.cls + ".remove_from_" + f.wire, json::array({r.value(), need(a, "param-key")})));
  for (const auto& [k, v] : a.ordered) {
    if (k == "uuid" || k == "param-name") continue;
    if (auto res = call(cls.cls + ".add_to_" + f.wire, json::array({r.value(), k, v})); !res)
      return fail(res.error());
  }
  return 0;
}

int Xe::param_clear(const XeRecord& cls, const Args& a) {
  auto r = lookup(cls.cls, need(a, "uuid"));
  if (!r) return fail(r.error());
  const XeField& f = field(cls, need(a, "param-name"));
  if (!hvnet::xe::settable(f.label) || !f.via.empty())
    return fail(Error{"FIELD_NOT_WRITABLE", {f.name}});
  json empty = is_map_label(f.label)   ? json::object()
               : is_set_label(f.label) ? json::array()
                                       : json("");
  return done(call(cls.cls + ".set_" + f.wire, json::array({r.value(), empty})));
}

// event-wait class=<class> [param=value | param=/=value ...]: blocks until an object of the class
// satisfies every condition (now or after a change), by long-polling event.from.
int Xe::event_wait(const Args& a) {
  const std::string cls_name = need(a, "class");
  const XeRecord* cls = hvnet::xe::xe_record(cls_name);
  for (const auto& r : hvnet::xe::xe_records())
    if (!cls && r.cls == cls_name) cls = &r;
  if (!cls) throw UsageError{"unknown class: " + cls_name};
  struct Cond {
    const XeField* f;
    std::string value;
    bool equal;
  };
  std::vector<Cond> conds;
  for (const auto& [k, v] : a.ordered) {
    if (k == "class") continue;
    const bool ne = v.rfind("/=", 0) == 0;
    conds.push_back(Cond{&field(*cls, k), ne ? v.substr(2) : v, !ne});
  }
  auto satisfied = [&](const json& rec) {
    for (const auto& c : conds)
      if ((show(*c.f, rec, false) == c.value) != c.equal) return false;
    return true;
  };
  std::string token;  // "": every object first, then what changes
  for (;;) {
    auto r = call("event.from", json::array({json::array({cls->cls}), token, 30.0}));
    if (!r) return fail(r.error());
    records_.clear();  // what other objects look like may have changed too
    for (const auto& ev : r.value()["events"])
      if (ev.value("operation", "") != "del" && satisfied(ev["snapshot"])) return 0;
    token = r.value()["token"];
  }
}

// One xe command: its parameters (for help and completion) and what it does.
struct Command {
  std::string name;
  std::vector<std::string> reqd, optional;
  std::string description;
  std::function<int(Xe&, const Args&)> run;
};

std::vector<Command> network_commands() {
  using A = const Args&;
  return {
      {"network-create",
       {"name-label"},
       {"name-description", "MTU", "bridge"},
       "Create a new network.",
       [](Xe& x, A a) {
         json rec = {{"name_label", x.need(a, "name-label")},
                     {"name_description", a.get("name-description")},
                     {"other_config", json::object()}};
         if (a.has("MTU")) rec["MTU"] = a.get("MTU");
         if (a.has("bridge")) rec["bridge"] = a.get("bridge");
         return x.print_uuid(x.call("network.create", json::array({rec})));
       }},
      {"network-destroy",
       {"uuid"},
       {},
       "Delete an existing network.",
       [](Xe& x, A a) { return x.on_uuid(a, "network", "network.destroy"); }},
      {"pif-scan",
       {},
       {"host-uuid"},
       "Scan for new physical interfaces on a host.",
       [](Xe& x, A a) {
         Result<json> host = x.host_arg(a);
         if (!host) return fail(host.error());
         return x.done(x.call("PIF.scan", json::array({host.value()})));
       }},
      {"pif-plug",
       {"uuid"},
       {},
       "Attempt to bring up a physical interface.",
       [](Xe& x, A a) { return x.on_uuid(a, "PIF", "PIF.plug"); }},
      {"pif-unplug",
       {"uuid"},
       {},
       "Attempt to bring down a physical interface.",
       [](Xe& x, A a) { return x.on_uuid(a, "PIF", "PIF.unplug"); }},
      {"pif-forget",
       {"uuid"},
       {},
       "Destroy a PIF object on a particular host.",
       [](Xe& x, A a) { return x.on_uuid(a, "PIF", "PIF.forget"); }},
      {"pif-reconfigure-ip",
       {"uuid", "mode"},
       {"IP", "netmask", "gateway", "DNS"},
       "Reconfigure the IP address settings on a PIF.",
       [](Xe& x, A a) {
         auto pif = x.lookup("PIF", x.need(a, "uuid"));
         if (!pif) return fail(pif.error());
         return x.done(x.call("PIF.reconfigure_ip",
                              json::array({pif.value(), x.need(a, "mode"), a.get("IP"),
                                           a.get("netmask"), a.get("gateway"), a.get("DNS")})));
       }},
      {"pif-reconfigure-ipv6",
       {"uuid", "mode"},
       {"IPv6", "gateway", "DNS"},
       "Reconfigure the IPv6 address settings on a PIF.",
       [](Xe& x, A a) {
         auto pif = x.lookup("PIF", x.need(a, "uuid"));
         if (!pif) return fail(pif.error());
         return x.done(x.call("PIF.reconfigure_ipv6",
                              json::array({pif.value(), x.need(a, "mode"), a.get("IPv6"),
                                           a.get("gateway"), a.get("DNS")})));
       }},
      {"vlan-create",
       {"pif-uuid", "vlan", "network-uuid"},
       {},
       "Create a new VLAN on a host (tag 0 to 4094; 4095: the network's VIFs tag their own frames, "
       "trunk-VLANs and native-VLAN on the network); prints the VLAN PIF's uuid.",
       [](Xe& x, A a) {
         auto r = x.refs(a, {{"PIF", "pif-uuid"}, {"network", "network-uuid"}});
         if (!r) return fail(r.error());
         auto vlan =
             x.call("VLAN.create", json::array({r.value()[0], x.need(a, "vlan"), r.value()[1]}));
         if (!vlan) return fail(vlan.error());
         return x.print_uuid(x.call("VLAN.get_untagged_PIF", json::array({vlan.value()})));
       }},
      {"pool-vlan-create",
       {"pif-uuid", "vlan", "network-uuid"},
       {},
       "Create a new VLAN on every host of the pool, on the PIF's device.",
       [](Xe& x, A a) {
         auto refs = x.refs(a, {{"PIF", "pif-uuid"}, {"network", "network-uuid"}});
         if (!refs) return fail(refs.error());
         json args = refs.value();
         args.push_back(x.need(a, "vlan"));
         auto r = x.call("pool.create_VLAN_from_PIF", args);
         if (!r) return fail(r.error());
         std::vector<std::string> uuids;
         for (const auto& p : r.value()) uuids.push_back(strip(p));
         std::cout << hvnet::xe::format_minimal(uuids) << "\n";
         return 0;
       }},
      {"vlan-destroy",
       {"uuid"},
       {},
       "Destroy a VLAN (the VLAN's uuid or its VLAN PIF's).",
       [](Xe& x, A a) {
         std::string uuid = x.need(a, "uuid");
         auto vlan = x.lookup("VLAN", uuid);
         if (!vlan) {
           auto pif = x.lookup("PIF", uuid);
           if (!pif) return fail(vlan.error());
           vlan = x.call("PIF.get_VLAN_master_of", json::array({pif.value()}));
           if (!vlan) return fail(vlan.error());
         }
         return x.done(x.call("VLAN.destroy", json::array({vlan.value()})));
       }},
      {"tunnel-create",
       {"pif-uuid", "network-uuid"},
       {"protocol"},
       "Create a new tunnel on a host (protocol gre, the default, or vxlan).",
       [](Xe& x, A a) {
         auto refs = x.refs(a, {{"PIF", "pif-uuid"}, {"network", "network-uuid"}});
         if (!refs) return fail(refs.error());
         json args = refs.value();
         if (a.has("protocol")) args.push_back(a.get("protocol"));
         return x.print_uuid(x.call("tunnel.create", args));
       }},
      {"tunnel-destroy",
       {"uuid"},
       {},
       "Destroy a tunnel.",
       [](Xe& x, A a) { return x.on_uuid(a, "tunnel", "tunnel.destroy"); }},
      {"host-network-stats",
       {},
       {"host-uuid"},
       "Show the switch's counters on a host (default: the one xe is connected to): per port "
       "packets, bytes, rates (bytes/s), drops and QoS limit, then drops by reason.",
       [](Xe& x, A a) {
         auto host = x.host_arg(a);
         if (!host) return fail(host.error());
         auto r = x.call("host.get_network_stats", json::array({host.value()}));
         if (!r) return fail(r.error());
         const json& st = r.value();
         for (const auto& p : st["ports"]) {
           std::vector<std::pair<std::string, std::string>> rows = {
               {"port ( RO)", p.value("name", "")},
               {"object ( RO)",
                p.value("object_class", "") + " " + hvnet::xe::display_json(p["object"])},
               {"type ( RO)", p.value("type", "") + " (" + p.value("backend", "") + ")"}};
           for (const char* k :
                {"rx_packets", "rx_bytes", "rx_bytes_per_s", "rx_dropped", "tx_packets", "tx_bytes",
                 "tx_bytes_per_s", "tx_errors", "qos_kbps"}) {
             rows.emplace_back(dashed(k) + " ( RO)", hvnet::xe::display_json(p.value(k, json(0))));
           }
           if (p.contains("status") && p["status"].contains("members"))
             for (const auto& m : p["status"]["members"])
               rows.emplace_back("member " + m.value("device", "") + " ( RO)",
                                 std::string(m.value("enabled", false) ? "carrying" : "idle") +
                                     (m.contains("lacp") ? ", LACP " + m.value("lacp", "") : ""));
           std::cout << hvnet::xe::format_record(rows) << "\n\n";
         }
         std::vector<std::pair<std::string, std::string>> totals;
         for (const char* k : {"forwarded", "flooded", "mac_learned", "mac_entries"})
           totals.emplace_back(dashed(k) + " ( RO)", hvnet::xe::display_json(st.value(k, json(0))));
         for (const auto& [reason, n] : st["drops"].items())
           if (n.get<uint64_t>())
             totals.emplace_back("drops " + dashed(reason) + " ( RO)", n.dump());
         std::cout << hvnet::xe::format_record(totals);
         return 0;
       }},
      {"host-drop-trace",
       {},
       {"host-uuid"},
       "Show the last frames the switch dropped on a host, oldest first: port, reason, source "
       "and destination MAC, EtherType, VLAN and length.",
       [](Xe& x, A a) {
         auto host = x.host_arg(a);
         if (!host) return fail(host.error());
         auto r = x.call("host.get_drop_trace", json::array({host.value()}));
         if (!r) return fail(r.error());
         for (const auto& d : r.value())
           std::cout << d["seq"] << " " << d.value("port", "") << " " << d.value("reason", "")
                     << " " << d.value("src", "-") << " > " << d.value("dst", "-") << " "
                     << d.value("ethertype", "") << " vlan "
                     << (d.value("vlan", -1) >= 0 ? std::to_string(d.value("vlan", -1)) : "-")
                     << " len " << d["len"] << "\n";
         return 0;
       }},
      {"network-mac-table",
       {"uuid"},
       {},
       "Show the MAC addresses the switch has learned on a network: port, VLAN and age (s).",
       [](Xe& x, A a) {
         auto n = x.lookup("network", x.need(a, "uuid"));
         if (!n) return fail(n.error());
         auto r = x.call("network.get_mac_table", json::array({n.value()}));
         if (!r) return fail(r.error());
         for (const auto& e : r.value())
           std::cout << e.value("mac", "") << " " << e.value("port", "") << " vlan " << e["vlan"]
                     << " age " << e["age"] << "\n";
         return 0;
       }},
      {"host-trace-packet",
       {"src", "dst"},
       {"host-uuid", "in-port", "vif-uuid", "pif-uuid", "vlan", "ethertype", "src-ip", "dst-ip",
        "src-port", "dst-port"},
       "Show what the switch would do with a frame received on a port (in-port=<device>, or "
       "vif-uuid= / pif-uuid=) from src to dst (MACs), as ofproto/trace does: each stage, the "
       "ports it leaves by (and their bond member), and the verdict.",
       [](Xe& x, A a) {
         auto host = x.host_arg(a);
         if (!host) return fail(host.error());
         json frame = {{"src", a.get("src")}, {"dst", a.get("dst")}};
         for (const char* k :
              {"in-port", "vlan", "ethertype", "src-ip", "dst-ip", "src-port", "dst-port"})
           if (a.has(k)) {
             std::string key = k;
             std::replace(key.begin(), key.end(), '-', '_');  // the API's spelling
             frame[key] = a.get(k);
           }
         for (auto [k, cls] :
              {std::pair<const char*, const char*>{"vif-uuid", "VIF"}, {"pif-uuid", "PIF"}})
           if (a.has(k)) {
             auto ref = x.lookup(cls, a.get(k));
             if (!ref) return fail(ref.error());
             frame["in_object"] = ref.value();
           }
         auto r = x.call("host.trace_packet", json::array({host.value(), frame}));
         if (!r) return fail(r.error());
         for (const auto& s : r.value()["steps"])
           std::cout << s.value("stage", "") << ": " << s.value("detail", "") << "\n";
         return 0;
       }},
      {"host-interface-list",
       {},
       {"host-uuid", "params"},
       "Lists the host interfaces (PIFs with an IP configuration) and their services.",
       [](Xe& x, A a) {
         const auto& recs = hvnet::xe::xe_records();
         auto pif = std::find_if(recs.begin(), recs.end(),
                                 [](const XeRecord& r) { return r.cls == "PIF"; });
         return x.list(*pif, a,
                       {"uuid", "host-name-label", "device", "network-name-label",
                        "IP-configuration-mode", "IP", "services"},
                       [](const json& r) {
                         auto on = [&](const char* f) {
                           const std::string m = r.value(f, "None");
                           return !m.empty() && m != "None";
                         };
                         return on("ip_configuration_mode") || on("ipv6_configuration_mode");
                       });
       }},
      {"port-mirror-create",
       {"name-label"},
       {"ingress-sources", "egress-sources", "sources", "destination-vif-uuid",
        "destination-pif-uuid", "destination-vlan"},
       "Create a port mirroring session: copies of what the VIFs/PIFs of ingress-sources receive "
       "and of egress-sources are sent (sources= for both) go to a VIF, or out of a PIF tagged "
       "destination-vlan.",
       [](Xe& x, A a) {
         json rec = {{"name_label", x.need(a, "name-label")}};
         auto sources = [&](const char* key) {
           return a.has(key) ? split_set(a.get(key)) : json::array();
         };
         json in = sources("ingress-sources"), out = sources("egress-sources");
         for (const auto& s : sources("sources")) {
           in.push_back(s);
           out.push_back(s);
         }
         rec["ingress_sources"] = in;
         rec["egress_sources"] = out;
         if (a.has("destination-vif-uuid")) rec["destination_VIF"] = a.get("destination-vif-uuid");
         if (a.has("destination-pif-uuid")) rec["destination_PIF"] = a.get("destination-pif-uuid");
         if (a.has("destination-vlan")) rec["destination_VLAN"] = a.get("destination-vlan");
         return x.print_uuid(x.call("port_mirror.create", json::array({rec})));
       }},
      {"port-mirror-destroy",
       {"uuid"},
       {},
       "Destroy a port mirroring session.",
       [](Xe& x, A a) { return x.on_uuid(a, "port_mirror", "port_mirror.destroy"); }},
      {"bond-create",
       {"network-uuid", "pif-uuids"},
       {"mac", "mode", "properties:"},
       "Create a bond of 2 to 4 PIFs (mode balance-slb, active-backup or lacp).",
       [](Xe& x, A a) {
         auto net = x.lookup("network", x.need(a, "network-uuid"));
         if (!net) return fail(net.error());
         json members = json::array();
         for (const auto& u : split_set(x.need(a, "pif-uuids"))) {
           auto pif = x.lookup("PIF", u);
           if (!pif) return fail(pif.error());
           members.push_back(pif.value());
         }
         json props = json::object();
         for (const auto& [k, v] : a.ordered)
           if (k.rfind("properties:", 0) == 0) props[k.substr(11)] = v;
         return x.print_uuid(
             x.call("Bond.create", json::array({net.value(), members, a.get("mac"),
                                                a.get("mode", "balance-slb"), props})));
       }},
      {"bond-destroy",
       {"uuid"},
       {},
       "Destroy a bond.",
       [](Xe& x, A a) { return x.on_uuid(a, "Bond", "Bond.destroy"); }},
      {"bond-set-mode",
       {"uuid", "mode"},
       {},
       "Change the bonding mode.",
       [](Xe& x, A a) {
         auto b = x.lookup("Bond", x.need(a, "uuid"));
         if (!b) return fail(b.error());
         return x.done(x.call("Bond.set_mode", json::array({b.value(), x.need(a, "mode")})));
       }},
      {"bond-param-set",
       {"uuid"},
       {"properties:"},
       "Set bond properties (checked against the mode) and other fields.",
       [](Xe& x, A a) {
         auto b = x.lookup("Bond", x.need(a, "uuid"));
         if (!b) return fail(b.error());
         Args rest;
         rest.kv["uuid"] = a.get("uuid");
         rest.ordered.emplace_back("uuid", a.get("uuid"));
         for (const auto& [k, v] : a.ordered) {
           if (k.rfind("properties:", 0) == 0) {
             if (auto r = x.call("Bond.set_property", json::array({b.value(), k.substr(11), v}));
                 !r)
               return fail(r.error());
           } else if (k != "uuid") {
             rest.kv[k] = v;
             rest.ordered.emplace_back(k, v);
           }
         }
         return rest.ordered.size() > 1 ? x.param_set(*hvnet::xe::xe_record("bond"), rest) : 0;
       }},
      {"host-management-reconfigure",
       {"pif-uuid"},
       {},
       "Reconfigure the management interface of this host to the given PIF.",
       [](Xe& x, A a) { return x.on_uuid(a, "PIF", "host.management_reconfigure", "pif-uuid"); }},
      {"pool-management-reconfigure",
       {"network-uuid"},
       {},
       "Reconfigure the management network of the pool.",
       [](Xe& x, A a) {
         return x.on_uuid(a, "network", "pool.management_reconfigure", "network-uuid");
       }},
      {"pool-join",
       {"master-address", "master-username", "master-password"},
       {"force"},
       "Make this host join the pool of the master (its HTTPS certificate is pinned on first "
       "use); prints the pinned certificate's SHA-256.",
       [](Xe& x, A a) {
         auto r = x.call("pool.join",
                         json::array({x.need(a, "master-address"), x.need(a, "master-username"),
                                      x.need(a, "master-password")}));
         if (!r) return fail(r.error());
         std::cout << "Joined; master certificate SHA-256 " << r.value().get<std::string>()
                   << " pinned\n";
         return 0;
       }},
      {"pool-eject",
       {"host-uuid"},
       {"force"},
       "Remove a host from the pool: it returns to a standalone host with only its management "
       "interface.",
       [](Xe& x, A a) { return x.on_uuid(a, "host", "pool.eject", "host-uuid"); }},
      {"pool-designate-new-master",
       {"host-uuid"},
       {},
       "Make another live member the pool's master.",
       [](Xe& x, A a) { return x.on_uuid(a, "host", "pool.designate_new_master", "host-uuid"); }},
      {"pool-emergency-transition-to-master",
       {},
       {},
       "Make this host the master, whoever holds the role.",
       [](Xe& x, A) {
         return x.done(x.call("pool.emergency_transition_to_master", json::array()));
       }},
      {"pool-emergency-reset-master",
       {"master-address"},
       {},
       "Point this member at a new master (members follow the elected master by themselves).",
       [](Xe& x, A a) {
         return x.done(
             x.call("pool.emergency_reset_master", json::array({x.need(a, "master-address")})));
       }},
      {"pool-recover-slaves",
       {},
       {},
       "Make the members that lost the master follow this one; prints those it recovered.",
       [](Xe& x, A) {
         auto r = x.call("pool.recover_slaves", json::array());
         if (!r) return fail(r.error());
         std::vector<std::string> uuids;
         for (const auto& h : r.value()) uuids.push_back(strip(h));
         std::cout << hvnet::xe::format_minimal(uuids) << "\n";
         return 0;
       }},
      {"host-management-disable",
       {},
       {},
       "Disable the management interface of this host.",
       [](Xe& x, A) { return x.done(x.call("host.management_disable", json::array())); }},
      {"host-management-confirm",
       {},
       {},
       "Confirm a management change before the safety net rolls it back.",
       [](Xe& x, A) { return x.done(x.call("host.management_confirm", json::array())); }},
      {"host-set-hostname-live",
       {"host-uuid", "host-name"},
       {},
       "Set the host's hostname.",
       [](Xe& x, A a) {
         auto host = x.lookup("host", x.need(a, "host-uuid"));
         if (!host) return fail(host.error());
         return x.done(
             x.call("host.set_hostname_live", json::array({host.value(), x.need(a, "host-name")})));
       }},
      {"audit-log-get",
       {},
       {"since", "filename"},
       "Print the audit log (every write and login: time, subject, origin, call, arguments, "
       "result), or write it to filename; since=<time, e.g. 20261203T12:00:00Z>.",
       [](Xe& x, A a) {
         auto r = x.call("pool.audit_log_get", json::array({a.get("since")}));
         if (!r) return fail(r.error());
         if (!a.has("filename")) {
           std::cout << r.value().get<std::string>();
           return 0;
         }
         std::ofstream out(a.get("filename"), std::ios::binary | std::ios::trunc);
         out << r.value().get<std::string>();
         if (!out.flush()) throw UsageError{"cannot write " + a.get("filename")};
         return 0;
       }},
      {"host-server-certificate-install",
       {"certificate", "private-key"},
       {"certificate-chain", "host-uuid"},
       "Install a TLS certificate and key (PEM files read here) for the host's HTTPS API; served "
       "from the next connection, no restart.",
       [](Xe& x, A a) {
         auto file = [&](const std::string& key) -> std::string {
           if (!a.has(key)) return "";
           std::ifstream in(a.get(key), std::ios::binary);
           if (!in) throw UsageError{"cannot read " + key + " file " + a.get(key)};
           return std::string(std::istreambuf_iterator<char>(in), {});
         };
         Result<json> host = x.host_arg(a);
         if (!host) return fail(host.error());
         const json& ref = host.value();
         return x.done(x.call("host.install_server_certificate",
                              json::array({ref, file("certificate"), file("private-key"),
                                           file("certificate-chain")})));
       }},
      {"subject-add",
       {"subject-name"},
       {},
       "Add a system account or group (by name) to the subjects that may use the API; it has no "
       "roles until subject-role-add gives it some.",
       [](Xe& x, A a) {
         auto sid = x.call("auth.get_subject_identifier", json::array({x.need(a, "subject-name")}));
         if (!sid) return fail(sid.error());
         auto ref = x.call("subject.create", json::array({json{{"subject_identifier", sid.value()},
                                                               {"other_config", json::object()}}}));
         return x.print_uuid(ref);
       }},
      {"subject-remove",
       {"subject-uuid"},
       {},
       "Remove a subject: it can no longer log in, and its sessions end at their next call.",
       [](Xe& x, A a) {
         auto s = x.lookup("subject", x.need(a, "subject-uuid"));
         if (!s) return fail(s.error());
         return x.done(x.call("subject.destroy", json::array({s.value()})));
       }},
      {"subject-role-add",
       {"uuid"},
       {"role-name", "role-uuid"},
       "Add a role to a subject (effective from its next call).",
       [](Xe& x, A a) { return x.subject_role(a, "subject.add_to_roles"); }},
      {"subject-role-remove",
       {"uuid"},
       {"role-name", "role-uuid"},
       "Remove a role from a subject (effective from its next call).",
       [](Xe& x, A a) { return x.subject_role(a, "subject.remove_from_roles"); }},
      {"vm-create",
       {"name-label"},
       {"name-description"},
       "Create a VM record.",
       [](Xe& x, A a) {
         json rec = {{"name_label", x.need(a, "name-label")},
                     {"name_description", a.get("name-description")}};
         return x.print_uuid(x.call("VM.create", json::array({rec})));
       }},
      {"vm-destroy",
       {"uuid"},
       {},
       "Destroy a VM record.",
       [](Xe& x, A a) { return x.on_uuid(a, "VM", "VM.destroy"); }},
      {"vm-start",
       {"uuid"},
       {},
       "Start a halted VM on this host: its VIFs attach, those on SR-IOV networks each take a VF.",
       [](Xe& x, A a) {
         auto vm = x.lookup("VM", x.need(a, "uuid"));
         if (!vm) return fail(vm.error());
         return x.done(x.call("VM.start", json::array({vm.value(), false, false})));
       }},
      {"vm-shutdown",
       {"uuid"},
       {"force"},
       "Shut a running VM down (force=true: at once): its VIFs detach and give their VFs back.",
       [](Xe& x, A a) {
         return x.on_uuid(a, "VM",
                          a.get("force") == "true" ? "VM.hard_shutdown" : "VM.clean_shutdown");
       }},
      {"network-sriov-create",
       {"pif-uuid", "network-uuid"},
       {},
       "Enable SR-IOV on a NIC's PIF: its VFs serve the network's VIFs (a logical PIF, plugged).",
       [](Xe& x, A a) {
         auto refs = x.refs(a, {{"PIF", "pif-uuid"}, {"network", "network-uuid"}});
         if (!refs) return fail(refs.error());
         return x.print_uuid(x.call("network_sriov.create", refs.value()));
       }},
      {"network-sriov-destroy",
       {"uuid"},
       {},
       "Disable SR-IOV on a NIC: its logical PIF goes, its VFs are disabled.",
       [](Xe& x, A a) { return x.on_uuid(a, "network_sriov", "network_sriov.destroy"); }},
      {"vif-create",
       {"vm-uuid", "network-uuid", "device"},
       {"mac"},
       "Create a VIF on a VM (mac: random in 00:16:3e:00-7f if not given).",
       [](Xe& x, A a) {
         auto vm = x.lookup("VM", x.need(a, "vm-uuid"));
         if (!vm) return fail(vm.error());
         auto net = x.lookup("network", x.need(a, "network-uuid"));
         if (!net) return fail(net.error());
         json rec = {{"VM", vm.value()},
                     {"network", net.value()},
                     {"device", x.need(a, "device")},
                     {"MAC", a.get("mac")},
                     {"other_config", json::object()}};
         return x.print_uuid(x.call("VIF.create", json::array({rec})));
       }},
      {"vif-create-xl",
       {"vm-uuid", "spec"},
       {},
       "Create a VM's VIFs from a Xen vif specification: one element "
       "('mac=00:16:3e:00:00:11, bridge=xenbr0, rate=10Mb/s') or a whole `vif = [ ... ]` line. "
       "Keys: mac, bridge, ip, script (vif-bridge, vif-route, vif-nat), vifname, rate, model, "
       "type.",
       [](Xe& x, A a) {
         auto vm = x.lookup("VM", x.need(a, "vm-uuid"));
         if (!vm) return fail(vm.error());
         auto r = x.call("VIF.create_from_xl_spec", json::array({vm.value(), x.need(a, "spec")}));
         if (!r) return fail(r.error());
         std::vector<std::string> uuids;
         for (const auto& v : r.value()) uuids.push_back(strip(v));
         std::cout << hvnet::xe::format_minimal(uuids) << "\n";
         return 0;
       }},
      {"vif-destroy",
       {"uuid"},
       {},
       "Destroy a VIF.",
       [](Xe& x, A a) { return x.on_uuid(a, "VIF", "VIF.destroy"); }},
      {"vif-plug",
       {"uuid"},
       {},
       "Attempt to attach the VIF while the VM is running.",
       [](Xe& x, A a) { return x.on_uuid(a, "VIF", "VIF.plug"); }},
      {"vif-unplug",
       {"uuid"},
       {},
       "Attempt to detach the VIF from the running VM.",
       [](Xe& x, A a) { return x.on_uuid(a, "VIF", "VIF.unplug"); }},
      {"event-wait",
       {"class"},
       {},
       "Wait until an object of the class has every <field>=<value> (or <field>=/=<value>).",
       [](Xe& x, A a) { return x.event_wait(a); }},
  };
}

// <class>-list, -param-* for every record layout, with the fields each accepts.
std::vector<Command> class_commands() {
  std::vector<Command> out;
  for (const auto& rec : hvnet::xe::xe_records()) {
    const XeRecord* r = &rec;
    std::vector<std::string> names, writable, collections;
    for (const auto& f : rec.fields) {
      names.push_back(f.name);
      if (hvnet::xe::settable(f.label) && f.via.empty()) writable.push_back(f.name);
      if (f.label != Label::kRO && f.label != Label::kRW) collections.push_back(f.name);
    }
    std::vector<std::string> list_opts = {"params"};
    list_opts.insert(list_opts.end(), names.begin(), names.end());
    const std::string c = rec.xe;
    using A = const Args&;
    out.push_back({c + "-list",
                   {},
                   list_opts,
                   "Lists " + c + " objects (filters: <field>=<value>).",
                   [r](Xe& x, A a) { return x.list(*r, a); }});
    out.push_back(
        {c + "-param-list", {"uuid"}, {}, "Lists every parameter of a " + c + ".", [r](Xe& x, A a) {
           return x.param_list(*r, a);
         }});
    out.push_back({c + "-param-get",
                   {"uuid", "param-name"},
                   {"param-key"},
                   "Gets one parameter of a " + c + ".",
                   [r](Xe& x, A a) { return x.param_get(*r, a); }});
    if (c != "bond")  // bond-param-set is a network command (properties go through the mode)
      out.push_back({c + "-param-set",
                     {"uuid"},
                     writable,
                     "Sets parameters of a " + c + ".",
                     [r](Xe& x, A a) { return x.param_set(*r, a); }});
    out.push_back({c + "-param-add",
                   {"uuid", "param-name"},
                   {"param-key"},
                   "Adds to a set or map parameter of a " + c + ".",
                   [r](Xe& x, A a) { return x.param_add_remove(*r, a, true); }});
    out.push_back({c + "-param-remove",
                   {"uuid", "param-name", "param-key"},
                   {},
                   "Removes from a set or map parameter of a " + c + ".",
                   [r](Xe& x, A a) { return x.param_add_remove(*r, a, false); }});
    out.push_back({c + "-param-clear",
                   {"uuid", "param-name"},
                   {},
                   "Clears a settable parameter of a " + c + ".",
                   [r](Xe& x, A a) { return x.param_clear(*r, a); }});
  }
  return out;
}

const std::vector<Command>& commands() {
  static const std::vector<Command> all = [] {
    auto v = network_commands();
    auto c = class_commands();
    v.insert(v.end(), c.begin(), c.end());
    std::sort(v.begin(), v.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
    return v;
  }();
  return all;
}

const Command* find_command(const std::string& name) {
  for (const auto& c : commands())
    if (c.name == name) return &c;
  return nullptr;
}

std::string joined(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

// `xe help [--minimal]`: every command; `xe help <command>`: its parameters, as XenServer's xe.
int help(const hvnet::xe::Invocation& inv) {
  if (!inv.command.empty() && inv.command != "--all") {
    const Command* c = find_command(inv.command);
    if (!c) {
      std::cerr << "Unknown command: " << inv.command << "\n";
      return 1;
    }
    std::cout << "command name            : " << c->name << "\n"
              << "        reqd params     : " << joined(c->reqd) << "\n"
              << "        optional params : " << joined(c->optional) << "\n"
              << "        description     : " << c->description << "\n";
    return 0;
  }
  std::vector<std::string> names;
  for (const auto& c : commands()) names.push_back(c.name);
  if (inv.args.minimal) {
    std::cout << hvnet::xe::format_minimal(names) << "\n";
    return 0;
  }
  std::cout << "Usage: xe [-s host] [-p port] [-u user] [-pw password | -pwf file] <command> "
               "[key=value ...] [--minimal]\n"
               "       xe help <command>   the parameters of one command\n\n"
               "Commands:\n";
  for (const auto& n : names) std::cout << "  " << n << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  hvnet::xe::Endpoint ep;
  if (const char* s = std::getenv("HVNET_XAPI_SOCKET")) ep.unix_path = s;
  auto parsed = hvnet::xe::parse_command_line(std::vector<std::string>(argv + 1, argv + argc), ep);
  if (!parsed) {
    std::cerr << parsed.error().params.at(0) << "\n";
    return 1;
  }
  hvnet::xe::Invocation& inv = parsed.value();
  if (!inv.endpoint.tls && !inv.endpoint.port_given) inv.endpoint.port = 8090;
  if (inv.help) return help(inv);
  if (inv.command.empty()) {
    help(inv);
    return 1;
  }
  const Command* cmd = find_command(inv.command);
  if (!cmd) {
    std::cerr << "Unknown command: " << inv.command << "\nFor usage run: 'xe help'\n";
    return 1;
  }
  if (!inv.password_file.empty()) {
    std::ifstream in(inv.password_file);
    if (!in) {
      std::cerr << "cannot read password file " << inv.password_file << "\n";
      return 1;
    }
    std::getline(in, inv.password);
  }
  hvnet::xe::RpcClient rpc(inv.endpoint);
  if (auto st = rpc.login(inv.user, inv.password); !st) return fail(st.error());
  int rc;
  try {
    Xe xe(rpc);
    rc = cmd->run(xe, inv.args);
  } catch (const UsageError& e) {
    std::cerr << e.msg << "\n";
    rc = 1;
  } catch (const std::exception& e) {
    std::cerr << "xe: " << e.what() << "\n";
    rc = 1;
  }
  rpc.logout();
  return rc;
}
