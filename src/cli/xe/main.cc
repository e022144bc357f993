// xe: hvnet's command-line client with XenServer's syntax: `xe <command> key=value …`.
// Generic commands per class come from the schema (<class>-list, -param-list, -param-get,
// -param-set, -param-add, -param-remove, -param-clear); the network commands map onto the
// XenAPI calls. Output and exit codes follow xe: errors on stderr, exit status 1.
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "cli/xe/args.h"
#include "cli/xe/format.h"
#include "cli/xe/rpc_client.h"
#include "model/schema.h"

namespace {

using json = nlohmann::json;
using hvnet::Error;
using hvnet::Result;
using hvnet::model::ClassSpec;
using hvnet::model::FieldSpec;
using hvnet::model::FieldType;

using hvnet::xe::Args;

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

  int run(const std::string& cmd, const Args& a);

 private:
  int print_uuid(const Result<json>& r) {
    if (!r) return fail(r.error());
    std::cout << strip(r.value().get<std::string>()) << "\n";
    return 0;
  }
  int done(const Result<json>& r) { return r ? 0 : fail(r.error()); }
  int list(const ClassSpec& cls, const Args& a);
  int param_list(const ClassSpec& cls, const Args& a);
  int param_get(const ClassSpec& cls, const Args& a);
  int param_set(const ClassSpec& cls, const Args& a);
  int param_add_remove(const ClassSpec& cls, const Args& a, bool add);
  int param_clear(const ClassSpec& cls, const Args& a);
  int event_wait(const Args& a);
  const FieldSpec& field(const ClassSpec& cls, const std::string& xe_name) {
    const FieldSpec* f = cls.field_by_xe(xe_name);
    if (!f) throw UsageError{"unknown parameter for " + cls.xe + ": " + xe_name};
    return *f;
  }

  hvnet::xe::RpcClient& rpc_;
};

int Xe::list(const ClassSpec& cls, const Args& a) {
  auto recs = call(cls.name + ".get_all_records", json::array());
  if (!recs) return fail(recs.error());
  std::vector<const FieldSpec*> shown;
  std::string params = a.get("params");
  if (params == "all") {
    for (const auto& f : cls.fields) shown.push_back(&f);
  } else if (!params.empty()) {
    size_t start = 0;
    while (start <= params.size()) {
      size_t comma = params.find(',', start);
      std::string name = params.substr(start, comma - start);
      shown.push_back(&field(cls, name));
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  } else {
    for (const auto& c : cls.list_columns) shown.push_back(&field(cls, c));
  }
  // Every other key=value is a filter on the displayed value of that field.
  std::vector<std::pair<const FieldSpec*, std::string>> filters;
  for (const auto& [k, v] : a.kv)
    if (k != "params") filters.emplace_back(&field(cls, k), v);

  std::vector<std::pair<std::string, json>> rows;
  for (const auto& [r, rec] : recs.value().items()) rows.emplace_back(rec.value("uuid", ""), rec);
  std::sort(rows.begin(), rows.end(),
            [](const auto& x, const auto& y) { return x.first < y.first; });
  std::vector<std::string> minimal;
  for (const auto& [uuid, rec] : rows) {
    bool match = true;
    for (const auto& [f, want] : filters)
      match &= hvnet::xe::display_value(*f, rec.value(f->wire, json())) == want;
    if (!match) continue;
    if (a.minimal)
      minimal.push_back(
          hvnet::xe::display_value(*shown.front(), rec.value(shown.front()->wire, json())));
    else
      std::cout << hvnet::xe::format_record(cls, rec, shown);
  }
  if (a.minimal) std::cout << hvnet::xe::format_minimal(minimal) << "\n";
  return 0;
}

int Xe::param_list(const ClassSpec& cls, const Args& a) {
  auto r = lookup(cls.name, need(a, "uuid"));
  if (!r) return fail(r.error());
  auto rec = call(cls.name + ".get_record", json::array({r.value()}));
  if (!rec) return fail(rec.error());
  std::vector<const FieldSpec*> all;
  for (const auto& f : cls.fields) all.push_back(&f);
  std::cout << hvnet::xe::format_record(cls, rec.value(), all);
  return 0;
}

int Xe::param_get(const ClassSpec& cls, const Args& a) {
  auto r = lookup(cls.name, need(a, "uuid"));
  if (!r) return fail(r.error());
  const FieldSpec& f = field(cls, need(a, "param-name"));
  auto v = call(cls.name + ".get_" + f.wire, json::array({r.value()}));
  if (!v) return fail(v.error());
  if (a.has("param-key")) {
    if (f.type != FieldType::kStringMap) throw UsageError{"param-key needs a map parameter"};
    auto it = v.value().find(a.get("param-key"));
    if (it == v.value().end()) return fail(Error{"MAP_KEY_NOT_FOUND", {f.xe, a.get("param-key")}});
    std::cout << it->get<std::string>() << "\n";
    return 0;
  }
  std::cout << hvnet::xe::display_value(f, v.value()) << "\n";
  return 0;
}

int Xe::param_set(const ClassSpec& cls, const Args& a) {
  auto r = lookup(cls.name, need(a, "uuid"));
  if (!r) return fail(r.error());
  for (const auto& [k, v] : a.ordered) {
    if (k == "uuid") continue;
    auto colon = k.find(':');
    if (colon != std::string::npos) {  // other-config:key=value
      const FieldSpec& f = field(cls, k.substr(0, colon));
      std::string key = k.substr(colon + 1);
      if (f.type != FieldType::kStringMap || f.access != hvnet::model::Access::kRW)
        return fail(Error{"FIELD_NOT_WRITABLE", {f.xe}});
      (void)call(cls.name + ".remove_from_" + f.wire, json::array({r.value(), key}));
      if (auto res = call(cls.name + ".add_to_" + f.wire, json::array({r.value(), key, v})); !res)
        return fail(res.error());
      continue;
    }
    const FieldSpec& f = field(cls, k);
    json value = v;
    if (f.type == FieldType::kStringSet) {
      value = json::array();
      size_t s = 0;
      while (!v.empty() && s <= v.size()) {
        size_t c = v.find(',', s);
        value.push_back(v.substr(s, c - s));
        if (c == std::string::npos) break;
        s = c + 1;
      }
    }
    if (auto res = call(cls.name + ".set_" + f.wire, json::array({r.value(), value})); !res)
      return fail(res.error());
  }
  return 0;
}

int Xe::param_add_remove(const ClassSpec& cls, const Args& a, bool add) {
  auto r = lookup(cls.name, need(a, "uuid"));
  if (!r) return fail(r.error());
  const FieldSpec& f = field(cls, need(a, "param-name"));
  if (cls.name == "network" && f.wire == "purpose") {
    return done(call(add ? "network.add_purpose" : "network.remove_purpose",
                     json::array({r.value(), need(a, "param-key")})));
  }
  if (f.type == FieldType::kStringSet) {
    return done(call(cls.name + (add ? ".add_" : ".remove_") + f.wire,
                     json::array({r.value(), need(a, "param-key")})));
  }
  if (f.type != FieldType::kStringMap) return fail(Error{"FIELD_NOT_A_MAP_OR_SET", {f.xe}});
  if (!add)
    return done(
        call(cls.name + ".remove_from_" + f.wire, json::array({r.value(), need(a, "param-key")})));
  for (const auto& [k, v] : a.ordered) {
    if (k == "uuid" || k == "param-name") continue;
    if (auto res = call(cls.name + ".add_to_" + f.wire, json::array({r.value(), k, v})); !res)
      return fail(res.error());
  }
  return 0;
}

// event-wait class=<class> [param=value | param=/=value ...]: blocks until an object of the class
// satisfies every condition (now or after a change), by long-polling event.from.
int Xe::event_wait(const Args& a) {
  const std::string cls_name = need(a, "class");
  const ClassSpec* cls = hvnet::model::find_class_by_xe(cls_name);
  if (!cls) cls = hvnet::model::find_class(cls_name);
  if (!cls) throw UsageError{"unknown class: " + cls_name};
  struct Cond {
    const FieldSpec* f;
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
      if ((hvnet::xe::display_value(*c.f, rec.value(c.f->wire, json())) == c.value) != c.equal)
        return false;
    return true;
  };
  std::string token;  // "": every object first, then what changes
  for (;;) {
    auto r = call("event.from", json::array({json::array({cls->name}), token, 30.0}));
    if (!r) return fail(r.error());
    for (const auto& ev : r.value()["events"])
      if (ev.value("operation", "") != "del" && satisfied(ev["snapshot"])) return 0;
    token = r.value()["token"];
  }
}

int Xe::param_clear(const ClassSpec& cls, const Args& a) {
  auto r = lookup(cls.name, need(a, "uuid"));
  if (!r) return fail(r.error());
  const FieldSpec& f = field(cls, need(a, "param-name"));
  if (f.access != hvnet::model::Access::kRW) return fail(Error{"FIELD_NOT_WRITABLE", {f.xe}});
  json empty = f.type == FieldType::kStringMap   ? json::object()
               : f.type == FieldType::kStringSet ? json::array()
                                                 : json("");
  return done(call(cls.name + ".set_" + f.wire, json::array({r.value(), empty})));
}

int Xe::run(const std::string& cmd, const Args& a) {
  if (cmd == "network-create") {
    json rec = {{"name_label", need(a, "name-label")},
                {"name_description", a.get("name-description")},
                {"other_config", json::object()}};
    if (a.has("MTU")) rec["MTU"] = a.get("MTU");
    if (a.has("bridge")) rec["bridge"] = a.get("bridge");
    return print_uuid(call("network.create", json::array({rec})));
  }
  auto on_uuid = [&](const std::string& cls, const std::string& method) {
    auto r = lookup(cls, need(a, "uuid"));
    if (!r) return fail(r.error());
    return done(call(method, json::array({r.value()})));
  };
  if (cmd == "network-destroy") return on_uuid("network", "network.destroy");
  if (cmd == "pif-plug") return on_uuid("PIF", "PIF.plug");
  if (cmd == "pif-unplug") return on_uuid("PIF", "PIF.unplug");
  if (cmd == "pif-forget") return on_uuid("PIF", "PIF.forget");
  if (cmd == "vif-destroy") return on_uuid("VIF", "VIF.destroy");
  if (cmd == "vif-plug") return on_uuid("VIF", "VIF.plug");
  if (cmd == "vif-unplug") return on_uuid("VIF", "VIF.unplug");
  if (cmd == "vm-destroy") return on_uuid("VM", "VM.destroy");
  if (cmd == "pif-scan") {
    Result<json> host =
        a.has("host-uuid") ? lookup("host", a.get("host-uuid")) : Result<json>(json());
    if (!a.has("host-uuid")) {
      auto all = call("host.get_all", json::array());
      if (!all) return fail(all.error());
      if (all.value().empty()) return fail(Error{"HOST_UNKNOWN", {}});
      host = all.value()[0];
    }
    if (!host) return fail(host.error());
    return done(call("PIF.scan", json::array({host.value()})));
  }
  if (cmd == "vlan-create" || cmd == "pool-vlan-create") {
    auto net = lookup("network", need(a, "network-uuid"));
    if (!net) return fail(net.error());
    auto pif = lookup("PIF", need(a, "pif-uuid"));
    if (!pif) return fail(pif.error());
    const std::string tag = need(a, "vlan");
    if (cmd == "pool-vlan-create") {
      auto r = call("pool.create_VLAN_from_PIF", json::array({pif.value(), net.value(), tag}));
      if (!r) return fail(r.error());
      std::vector<std::string> uuids;
      for (const auto& p : r.value()) uuids.push_back(strip(p));
      std::cout << hvnet::xe::format_minimal(uuids) << "\n";
      return 0;
    }
    auto vlan = call("VLAN.create", json::array({pif.value(), tag, net.value()}));
    if (!vlan) return fail(vlan.error());
    return print_uuid(call("VLAN.get_untagged_PIF", json::array({vlan.value()})));
  }
  if (cmd == "vlan-destroy") {
    // Accepts the VLAN's uuid or its VLAN PIF's uuid (what vlan-create printed).
    std::string uuid = need(a, "uuid");
    auto vlan = lookup("VLAN", uuid);
    if (!vlan) {
      auto pif = lookup("PIF", uuid);
      if (!pif) return fail(vlan.error());
      vlan = call("PIF.get_VLAN_master_of", json::array({pif.value()}));
      if (!vlan) return fail(vlan.error());
    }
    return done(call("VLAN.destroy", json::array({vlan.value()})));
  }
  if (cmd == "bond-create") {
    auto net = lookup("network", need(a, "network-uuid"));
    if (!net) return fail(net.error());
    json members = json::array();
    std::string list = need(a, "pif-uuids");
    for (size_t s = 0; s <= list.size();) {
      size_t c = list.find(',', s);
      auto pif = lookup("PIF", list.substr(s, c - s));
      if (!pif) return fail(pif.error());
      members.push_back(pif.value());
      if (c == std::string::npos) break;
      s = c + 1;
    }
    json props = json::object();
    for (const auto& [k, v] : a.ordered)
      if (k.rfind("properties:", 0) == 0) props[k.substr(11)] = v;
    return print_uuid(call("Bond.create", json::array({net.value(), members, a.get("mac"),
                                                       a.get("mode", "balance-slb"), props})));
  }
  if (cmd == "bond-destroy") return on_uuid("Bond", "Bond.destroy");
  if (cmd == "bond-set-mode") {
    auto b = lookup("Bond", need(a, "uuid"));
    if (!b) return fail(b.error());
    return done(call("Bond.set_mode", json::array({b.value(), need(a, "mode")})));
  }
  if (cmd == "bond-param-set") {
    // properties:<key>=<value> goes through Bond.set_property (checked against the mode).
    auto b = lookup("Bond", need(a, "uuid"));
    if (!b) return fail(b.error());
    Args rest;
    rest.kv["uuid"] = a.get("uuid");
    rest.ordered.emplace_back("uuid", a.get("uuid"));
    for (const auto& [k, v] : a.ordered) {
      if (k.rfind("properties:", 0) == 0) {
        if (auto r = call("Bond.set_property", json::array({b.value(), k.substr(11), v})); !r)
          return fail(r.error());
      } else if (k != "uuid") {
        rest.kv[k] = v;
        rest.ordered.emplace_back(k, v);
      }
    }
    return rest.ordered.size() > 1 ? param_set(*hvnet::model::find_class("Bond"), rest) : 0;
  }
  if (cmd == "pif-reconfigure-ip") {
    auto pif = lookup("PIF", need(a, "uuid"));
    if (!pif) return fail(pif.error());
    return done(call("PIF.reconfigure_ip",
                     json::array({pif.value(), need(a, "mode"), a.get("IP"), a.get("netmask"),
                                  a.get("gateway"), a.get("DNS")})));
  }
  if (cmd == "pif-reconfigure-ipv6") {
    auto pif = lookup("PIF", need(a, "uuid"));
    if (!pif) return fail(pif.error());
    return done(
        call("PIF.reconfigure_ipv6", json::array({pif.value(), need(a, "mode"), a.get("IPv6"),
                                                  a.get("gateway"), a.get("DNS")})));
  }
  if (cmd == "host-management-reconfigure") {
    auto pif = lookup("PIF", need(a, "pif-uuid"));
    if (!pif) return fail(pif.error());
    return done(call("host.management_reconfigure", json::array({pif.value()})));
  }
  if (cmd == "pool-management-reconfigure") {
    auto net = lookup("network", need(a, "network-uuid"));
    if (!net) return fail(net.error());
    return done(call("pool.management_reconfigure", json::array({net.value()})));
  }
  if (cmd == "host-management-disable") return done(call("host.management_disable", json::array()));
  if (cmd == "host-management-confirm") return done(call("host.management_confirm", json::array()));
  if (cmd == "host-set-hostname-live") {
    auto host = lookup("host", need(a, "host-uuid"));
    if (!host) return fail(host.error());
    return done(call("host.set_hostname_live", json::array({host.value(), need(a, "host-name")})));
  }
  if (cmd == "vm-create") {
    json rec = {{"name_label", need(a, "name-label")},
                {"name_description", a.get("name-description")}};
    return print_uuid(call("VM.create", json::array({rec})));
  }
  if (cmd == "vif-create") {
    auto vm = lookup("VM", need(a, "vm-uuid"));
    if (!vm) return fail(vm.error());
    auto net = lookup("network", need(a, "network-uuid"));
    if (!net) return fail(net.error());
    json rec = {{"VM", vm.value()},
                {"network", net.value()},
                {"device", need(a, "device")},
                {"MAC", a.get("mac")},
                {"other_config", json::object()}};
    return print_uuid(call("VIF.create", json::array({rec})));
  }
  if (cmd == "event-wait") return event_wait(a);
  // Generic per-class commands: <class>-list, <class>-param-*.
  for (const auto& cls : hvnet::model::all_classes()) {
    const std::string p = cls.xe + "-";
    if (cmd.rfind(p, 0) != 0) continue;
    const std::string verb = cmd.substr(p.size());
    if (verb == "list") return list(cls, a);
    if (verb == "param-list") return param_list(cls, a);
    if (verb == "param-get") return param_get(cls, a);
    if (verb == "param-set") return param_set(cls, a);
    if (verb == "param-add") return param_add_remove(cls, a, true);
    if (verb == "param-remove") return param_add_remove(cls, a, false);
    if (verb == "param-clear") return param_clear(cls, a);
  }
  std::cerr << "Unknown command: " << cmd << "\nFor usage run: 'xe help'\n";
  return 1;
}

void usage() {
  std::cout << "Usage: xe [-s host] [-p port] [-u user] [-pw password | -pwf file] <command> "
               "[key=value ...] [--minimal]\n\n"
               "Network commands: network-create network-destroy pif-scan pif-plug pif-unplug "
               "pif-forget vlan-create vlan-destroy pool-vlan-create bond-create bond-destroy "
               "bond-set-mode bond-param-set vif-create vif-destroy "
               "vif-plug vif-unplug vm-create vm-destroy\n"
               "Events: event-wait class=<class> [param=value | param=/=value ...]\n"
               "Per class (pool host network pif vif vlan bond vm task): <class>-list "
               "<class>-param-list <class>-param-get <class>-param-set <class>-param-add "
               "<class>-param-remove <class>-param-clear\n";
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
  if (inv.help) {
    usage();
    return 0;
  }
  if (!inv.password_file.empty()) {
    std::ifstream in(inv.password_file);
    if (!in) {
      std::cerr << "cannot read password file " << inv.password_file << "\n";
      return 1;
    }
    std::getline(in, inv.password);
  }
  if (inv.command.empty()) {
    usage();
    return 1;
  }
  hvnet::xe::RpcClient rpc(inv.endpoint);
  if (auto st = rpc.login(inv.user, inv.password); !st) return fail(st.error());
  int rc;
  try {
    Xe xe(rpc);
    rc = xe.run(inv.command, inv.args);
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
