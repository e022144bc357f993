// What the switch counts and why it drops, for the web console, xe and monitoring systems (hvnet
// calls, read-only, served from the data plane's counters without stopping the forwarding threads):
//   host.get_network_stats(host)    per port counters, rates, QoS and live state (bonds with their
//                                   members and LACP, tunnels), drops per reason, MAC table size
//   host.get_drop_trace(host)       the last dropped frames: port, reason, MACs, EtherType, VLAN
//   network.get_mac_table(network)  the MAC addresses learned on a network, with port and age
//   host.trace_packet(host, frame)  the path a frame would take (ofproto/trace's idea)
// and the Prometheus text of /metrics (Api::metrics_text). Counters are the host's own: a pool
// member's are asked of that member's hvnetd, the call names it.
#include <cmath>
#include <set>
#include <sstream>

#include "api/api.h"
#include "api/api_util.h"
#include "model/ops.h"

namespace hvnet::api {

using namespace detail;  // NOLINT: the API's own helpers

namespace {

// Each switch port's object: PIF (NICs, bond masters), network (its internal port, tunnels), VIF.
struct PortObject {
  std::string cls, uuid;
};
std::map<std::string, PortObject> port_objects(const Txn& t, const std::string& host) {
  std::map<std::string, PortObject> out;
  for (const auto& pif : t.all_of("PIF")) {
    const json& r = t.get(pif)->rec;
    if (r.value("host", "") != host || r.value("VLAN", int64_t(-1)) != -1) continue;
    out[r.value("device", "")] = {"PIF", pif};
  }
  for (const auto& net : t.all_of("network")) {
    const std::string bridge = t.get(net)->rec.value("bridge", "");
    out[bridge] = {"network", net};
    out[("vx-" + bridge).substr(0, 15)] = {"network", net};
    out[("gre-" + bridge).substr(0, 15)] = {"network", net};
  }
  for (const auto& vif : t.all_of("VIF"))
    if (model::vif_runs_here(t, t.get(vif)->rec))
      out[model::vif_device_name(t, vif)] = {"VIF", vif};
  return out;
}

json drops_by_reason(const std::array<uint64_t, size_t(DropReason::kCount)>& d) {
  json out = json::object();
  for (size_t r = 0; r < d.size(); ++r) out[drop_reason_name(DropReason(r))] = d[r];
  return out;
}

// Prometheus label values: backslash, quote and newline escaped.
std::string label(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

}  // namespace

Result<std::string> Api::local_host_arg(const json& ref) {
  auto host = mgr_.read([&](const Txn& t) { return resolve(t, "host", ref); });
  if (!host) return host.error();
  if (host.value() != mgr_.local_host())
    return make_error("OPERATION_NOT_ALLOWED",
                      {"the counters of host " + host.value() +
                       " are kept by that host's own hvnetd: ask its API"});
  if (!mgr_.switch_controller()) return make_error("INTERNAL_ERROR", {"no data plane"});
  return host;
}

void Api::register_console() {
  add("host.get_network_stats", 1, [this](const json& a) -> Result<json> {
    auto host = local_host_arg(a[0]);
    if (!host) return host.error();
    SwitchController& sw = *mgr_.switch_controller();
    const SwitchStats st = sw.stats();
    const auto objects = mgr_.read([&](const Txn& t) { return port_objects(t, host.value()); });
    json ports = json::array();
    for (const PortCounters& c : st.ports) {
      json p = {{"name", c.name},           {"type", c.type},
                {"backend", c.backend},     {"rx_packets", c.rx_packets},
                {"rx_bytes", c.rx_bytes},   {"rx_dropped", c.rx_dropped},
                {"rx_missed", c.rx_missed}, {"tx_packets", c.tx_packets},
                {"tx_bytes", c.tx_bytes},   {"tx_errors", c.tx_errors},
                {"qos_kbps", c.qos_kbps},   {"object_class", ""},
                {"object", model::kNullRef}};
      if (auto it = objects.find(c.name); it != objects.end()) {
        p["object_class"] = it->second.cls;
        p["object"] = ref_of(it->second.uuid);
      }
      if (auto rates = sw.port_rates(c.name)) {
        p["rx_bytes_per_s"] = std::round(rates->rx);
        p["tx_bytes_per_s"] = std::round(rates->tx);
      }
      if (json live = sw.port_status(c.name); !live.empty()) p["status"] = std::move(live);
      ports.push_back(std::move(p));
    }
    return json{{"host", ref_of(host.value())},  {"time", iso_now()},
                {"ports", std::move(ports)},     {"drops", drops_by_reason(st.drops)},
                {"forwarded", st.forwarded},     {"flooded", st.flooded},
                {"mac_learned", st.learned},     {"mac_moves", st.mac_moves},
                {"mac_entries", st.mac_entries}, {"forwarding_threads", st.threads}};
  });

  add("host.get_drop_trace", 1, [this](const json& a) -> Result<json> {
    auto host = local_host_arg(a[0]);
    if (!host) return host.error();
    json out = json::array();
    for (const DropRecord& d : mgr_.switch_controller()->drops())
      out.push_back({{"seq", d.seq},
                     {"port", d.port},
                     {"reason", drop_reason_name(d.reason)},
                     {"len", d.len},
                     {"src", d.src},
                     {"dst", d.dst},
                     {"ethertype", d.ethertype},
                     {"vlan", d.vlan}});
    return out;
  });

  add("network.get_mac_table", 1, [this](const json& a) -> Result<json> {
    auto bridge = mgr_.read([&](const Txn& t) -> Result<std::string> {
      auto n = resolve(t, "network", a[0]);
      if (!n) return n.error();
      return t.get(n.value())->rec.value("bridge", "");
    });
    if (!bridge) return bridge.error();
    json out = json::array();
    if (!mgr_.switch_controller()) return out;
    for (const FdbRecord& e : mgr_.switch_controller()->fdb())
      if (e.network == bridge.value())
        out.push_back({{"mac", e.mac}, {"port", e.port}, {"vlan", e.vlan}, {"age", e.age}});
    return out;
  });

  add("host.trace_packet", 2, [this](const json& a) -> Result<json> {
    auto host = local_host_arg(a[0]);
    if (!host) return host.error();
    if (!a[1].is_object()) return make_error("FIELD_TYPE_ERROR", {"frame"});
    const json& f = a[1];
    TraceRequest req;
    auto text = [&](const char* key, std::string& into) -> Status {
      if (!f.contains(key)) return ok_status();
      if (!f[key].is_string()) return make_error("FIELD_TYPE_ERROR", {key});
      into = f[key].get<std::string>();
      return ok_status();
    };
    auto number = [&](const char* key, uint16_t& into, int64_t max) -> Status {
      if (!f.contains(key)) return ok_status();
      int64_t v = -1;
      if (f[key].is_number_integer()) v = f[key].get<int64_t>();
      if (f[key].is_string()) {  // "0x0806", "10": XML-RPC clients send strings
        const std::string s = f[key];
        char* end = nullptr;
        errno = 0;
        v = std::strtoll(s.c_str(), &end, 0);
        if (s.empty() || errno || *end) v = -1;
      }
      if (v < 0 || v > max) return make_error("INVALID_VALUE", {key, f[key].dump()});
      into = uint16_t(v);
      return ok_status();
    };
    for (auto [key, into] : {std::pair<const char*, std::string*>{"in_port", &req.in_port},
                             {"src", &req.src},
                             {"dst", &req.dst},
                             {"src_ip", &req.src_ip},
                             {"dst_ip", &req.dst_ip}})
      if (Status st = text(key, *into); !st) return st.error();
    // The port may be named by its object: a VIF, a PIF or a network (its internal port).
    if (f.contains("in_object")) {
      auto port = mgr_.read([&](const Txn& t) -> Result<std::string> {
        if (!f["in_object"].is_string()) return make_error("FIELD_TYPE_ERROR", {"in_object"});
        const std::string uuid = uuid_of_ref(f["in_object"].get<std::string>());
        for (const auto& [name, o] : port_objects(t, host.value()))
          if (o.uuid == uuid &&
              (o.cls != "network" || name == t.get(uuid)->rec.value("bridge", "")))
            return name;
        return make_error("INVALID_VALUE", {"in_object", f["in_object"].dump()});
      });
      if (!port) return port.error();
      req.in_port = port.value();
    }
    for (auto [key, into, max] :
         {std::tuple<const char*, uint16_t*, int64_t>{"vlan", &req.vlan, 4094},
          {"ethertype", &req.ethertype, 0xffff},
          {"src_port", &req.src_port, 0xffff},
          {"dst_port", &req.dst_port, 0xffff}})
      if (Status st = number(key, *into, max); !st) return st.error();
    auto r = mgr_.switch_controller()->trace(req);
    if (!r) return r.error();
    json steps = json::array();
    for (const TraceStep& s : r->steps) steps.push_back({{"stage", s.stage}, {"detail", s.detail}});
    json outs = json::array();
    for (const TraceOutput& o : r->outputs)
      outs.push_back({{"port", o.name}, {"vlan", o.vlan}, {"bond_member", o.member}});
    return json{{"verdict", r->verdict},
                {"drop_reason", r->dropped ? drop_reason_name(*r->dropped) : ""},
                {"steps", std::move(steps)},
                {"outputs", std::move(outs)}};
  });
}

std::string Api::metrics_text() {
  std::ostringstream o;
  auto head = [&](const char* name, const char* type, const char* help) {
    o << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n';
  };
  if (SwitchController* sw = mgr_.switch_controller()) {
    const SwitchStats st = sw->stats();
    const std::string host = mgr_.local_host();
    const auto objects = mgr_.read([&](const Txn& t) { return port_objects(t, host); });
    auto port_labels = [&](const PortCounters& c) {
      std::string l = "port=\"" + label(c.name) + "\",type=\"" + label(c.type) + "\"";
      if (auto it = objects.find(c.name); it != objects.end())
        l += ",class=\"" + it->second.cls + "\",uuid=\"" + label(it->second.uuid) + "\"";
      return l;
    };
    struct Counter {
      const char* name;
      const char* help;
      uint64_t PortCounters::*field;
    };
    for (const Counter& c :
         {Counter{"hvnet_port_rx_packets_total", "Frames the switch received on the port.",
                  &PortCounters::rx_packets},
          Counter{"hvnet_port_rx_bytes_total", "Bytes the switch received on the port.",
                  &PortCounters::rx_bytes},
          Counter{"hvnet_port_rx_dropped_total", "Received frames dropped at ingress.",
                  &PortCounters::rx_dropped},
          Counter{"hvnet_port_rx_missed_total", "Frames the port's ring overran.",
                  &PortCounters::rx_missed},
          Counter{"hvnet_port_tx_packets_total", "Frames the switch sent out of the port.",
                  &PortCounters::tx_packets},
          Counter{"hvnet_port_tx_bytes_total", "Bytes the switch sent out of the port.",
                  &PortCounters::tx_bytes},
          Counter{"hvnet_port_tx_errors_total", "Frames the port refused to send.",
                  &PortCounters::tx_errors}}) {
      head(c.name, "counter", c.help);
      for (const PortCounters& p : st.ports)
        o << c.name << '{' << port_labels(p) << "} " << p.*c.field << '\n';
    }
    head("hvnet_port_qos_limit_bytes_per_second", "gauge", "The VIF's transmit limit (0: none).");
    for (const PortCounters& p : st.ports)
      o << "hvnet_port_qos_limit_bytes_per_second{" << port_labels(p) << "} " << p.qos_kbps * 1024
        << '\n';
    head("hvnet_drops_total", "counter", "Frames the switch dropped, by reason.");
    for (size_t r = 0; r < st.drops.size(); ++r)
      o << "hvnet_drops_total{reason=\"" << drop_reason_name(DropReason(r)) << "\"} " << st.drops[r]
        << '\n';
    head("hvnet_forwarded_total", "counter", "Frames forwarded to one known port.");
    o << "hvnet_forwarded_total " << st.forwarded << '\n';
    head("hvnet_flooded_total", "counter", "Frames flooded in their network.");
    o << "hvnet_flooded_total " << st.flooded << '\n';
    head("hvnet_mac_learned_total", "counter", "MAC addresses learned.");
    o << "hvnet_mac_learned_total " << st.learned << '\n';
    head("hvnet_mac_moves_total", "counter", "MAC addresses seen moving to another port.");
    o << "hvnet_mac_moves_total " << st.mac_moves << '\n';
    head("hvnet_mac_table_entries", "gauge", "MAC addresses in the table now.");
    o << "hvnet_mac_table_entries " << st.mac_entries << '\n';
    // Bonds: members' carrier and LACP state.
    head("hvnet_bond_member_up", "gauge", "1 when the bond member carries traffic.");
    std::ostringstream lacp;
    for (const PortCounters& p : st.ports) {
      if (p.type != "bond") continue;
      const json s = sw->port_status(p.name);
      for (const auto& m : s.value("members", json::array())) {
        const std::string l =
            "bond=\"" + label(p.name) + "\",member=\"" + label(m.value("device", "")) + "\"";
        o << "hvnet_bond_member_up{" << l << "} " << (m.value("enabled", false) ? 1 : 0) << '\n';
        if (m.contains("lacp"))
          lacp << "hvnet_bond_member_lacp{" << l << ",state=\"" << label(m.value("lacp", ""))
               << "\",mux=\"" << label(m.value("lacp_mux", "")) << "\"} 1\n";
      }
    }
    head("hvnet_bond_member_lacp", "gauge", "The LACP receive and mux state of a bond member.");
    o << lacp.str();
  }
  head("hvnet_api_calls_total", "counter", "API calls answered, by method.");
  const auto calls = call_counts();
  for (const auto& [m, c] : calls)
    o << "hvnet_api_calls_total{method=\"" << label(m) << "\"} " << c.calls << '\n';
  head("hvnet_api_call_errors_total", "counter", "API calls answered with an error, by method.");
  for (const auto& [m, c] : calls)
    o << "hvnet_api_call_errors_total{method=\"" << label(m) << "\"} " << c.errors << '\n';
  head("hvnet_api_call_seconds", "summary", "Time from an API call to its answer, by method.");
  for (const auto& [m, c] : calls) {
    o << "hvnet_api_call_seconds_sum{method=\"" << label(m) << "\"} " << c.seconds << '\n';
    o << "hvnet_api_call_seconds_count{method=\"" << label(m) << "\"} " << c.calls << '\n';
  }
  head("hvnet_api_sessions", "gauge", "Open API sessions.");
  o << "hvnet_api_sessions " << session_count() << '\n';
  return o.str();
}

}  // namespace hvnet::api
