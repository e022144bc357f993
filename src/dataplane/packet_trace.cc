#include "dataplane/packet_trace.h"

#include <cstdio>

#include "dataplane/bond_port.h"
#include "dataplane/ingress.h"
#include "dataplane/vlan_egress.h"
#include "packet/headers.h"
#include "packet/mac.h"

namespace hvnet {

namespace {

std::string mac_text(uint64_t m) {
  return MacAddr::from_u64(m).to_string();
}

std::string port_name(const Snapshot& s, PortId id) {
  return id < s.ports.size() && s.ports[id].port ? s.ports[id].port->name()
                                                 : "port " + std::to_string(id);
}

std::string lport_text(const Snapshot& s, LportId lp) {
  const LportEntry& le = s.lports[lp];
  std::string t = port_name(s, le.port);
  if (le.tag) t += " VLAN " + std::to_string(vlan_of_lport_tag(le.tag));
  return t;
}

std::string vlan_text(const VlanRewrite& rw, const Packet& p) {
  switch (rw.op) {
    case VlanOp::kKeep:
      return p.l2_len == 18 ? "keep tag " + std::to_string(p.vid) : "untagged";
    case VlanOp::kPush:
      return "push VLAN " + std::to_string(rw.tci & 0x0fff);
    case VlanOp::kPop:
      return "pop tag";
    case VlanOp::kRetag:
      return "retag to VLAN " + std::to_string(rw.tci & 0x0fff);
  }
  return "";
}

class Tracer {
 public:
  Tracer(const Snapshot& s, Packet& p) : s_(s), p_(p) {}

  void step(std::string stage, std::string detail) {
    r_.steps.push_back({std::move(stage), std::move(detail)});
  }
  TraceResult drop(DropReason why, const std::string& stage, const std::string& detail) {
    step(stage, detail);
    r_.dropped = why;
    r_.verdict = "drop";
    step("verdict", std::string("drop: ") + drop_reason_name(why));
    return std::move(r_);
  }
  void output(LportId lp) {
    const LportEntry& le = s_.lports[lp];
    TraceOutput o{le.port, port_name(s_, le.port), vlan_text(vlan_egress(p_, le.tag), p_), ""};
    if (const auto* bond = dynamic_cast<const BondPort*>(s_.ports[le.port].port.get()))
      o.member = bond->member_for(p_, le.tag);
    std::string d = "to " + o.name + " (" + o.vlan + ")";
    if (!o.member.empty()) d += " through bond member " + o.member;
    step("output", d);
    r_.outputs.push_back(std::move(o));
  }
  TraceResult done(const std::string& verdict) {
    r_.verdict = verdict;
    step("verdict", verdict + " to " + std::to_string(r_.outputs.size()) + " port(s)");
    return std::move(r_);
  }

 private:
  const Snapshot& s_;
  Packet& p_;
  TraceResult r_;
};

}  // namespace

TraceResult trace_packet(const Snapshot& s, const MacTable& fdb, PortId in, Packet& p,
                         uint32_t now_s) {
  Tracer t(s, p);
  const PortEntry* pe = s.port(in);
  if (pe == nullptr) {
    TraceResult r;
    r.verdict = "drop";
    r.steps.push_back({"ingress", "no such port in the switch"});
    return r;
  }
  p.in_port = in;
  const char* role = pe->role == PortRole::kTrunk ? "trunk" : "access";
  if (std::optional<DropReason> why = ingress_classify(s, *pe, p))
    return t.drop(*why, "ingress",
                  std::string("received on ") + role + " port " + pe->port->name() + ": " +
                      drop_reason_name(*why));
  {
    char et[8];
    std::snprintf(et, sizeof et, "0x%04x", load_be16(p.data + p.l2_len - 2));
    t.step("ingress", std::string("received on ") + role + " port " + pe->port->name() + ", " +
                          (p.l2_len == 18 ? "tagged VLAN " + std::to_string(p.vid) : "untagged") +
                          ", EtherType " + et + ": network " + s.bridges[p.bridge].name + " (MTU " +
                          std::to_string(s.bridges[p.bridge].mtu) + ")");
  }
  if (pe->qos_rate)
    t.step("qos", "the port's traffic is limited to " + std::to_string(pe->qos_rate) +
                      " bytes/s (burst " + std::to_string(pe->qos_burst) +
                      " bytes): the frame waits for tokens, it is not dropped");
  if (pe->locking) {
    if (std::optional<DropReason> why = pe->locking->check(p))
      return t.drop(*why, "locking",
                    std::string("refused by the port's locking rules: ") + drop_reason_name(*why));
    t.step("locking", "allowed by the port's locking rules");
  } else {
    t.step("locking", "the port is not locked");
  }
  const uint64_t src = mac_u64_at(p.data + 6);
  if (pe->slb_rx_filter) {
    LportId known = fdb.lookup(p.bridge, src, now_s);
    if (known != kNoLport && s.lports[known].port != in) {
      const std::string where =
          "balance-slb: source " + mac_text(src) + " is on local port " + lport_text(s, known);
      auto arp = p.len > p.l2_len && load_be16(p.data + p.l2_len - 2) == kEtherTypeArp
                     ? parse_arp(p.data + p.l2_len, p.len - p.l2_len)
                     : std::nullopt;
      if (!arp || arp->spa != arp->tpa)
        return t.drop(DropReason::kBondLoop, "bond-filter", where + ": our own frame come back");
      t.step("bond-filter", where + ", but a gratuitous ARP may announce a move: allowed");
    }
  }
  if (pe->own_mac_only && src != pe->own_mac_only)
    t.step("learn",
           "source " + mac_text(src) + " is not learned: the VIF's MAC changes are rejected");
  else
    t.step("learn",
           "source " + mac_text(src) + " would be learned on " + lport_text(s, p.in_lport));

  const bool group = p.data[0] & 1;
  const uint64_t dst = group ? 0 : mac_u64_at(p.data);
  LportId out = group ? kNoLport : fdb.lookup(p.bridge, dst, now_s);
  if (out != kNoLport && out < s.lports.size() && s.lports[out].port != kNoPort) {
    t.step("lookup", "destination " + mac_text(dst) + " is known on " + lport_text(s, out));
    if (out == p.in_lport)
      return t.drop(DropReason::kHairpin, "lookup", "that is the port it came from");
    const LportEntry& le = s.lports[out];
    if (pe->isolated && s.ports[le.port].isolated)
      return t.drop(DropReason::kIsolated, "lookup",
                    "both ports are isolated ports of a routed network");
    t.output(out);
    for (LportId lp : *s.bridges[p.bridge].promiscuous) {
      if (lp == p.in_lport || lp == out) continue;
      if (pe->isolated && s.ports[s.lports[lp].port].isolated) continue;
      t.step("promiscuous", "a copy for promiscuous port " + lport_text(s, lp));
      t.output(lp);
    }
    return t.done("forward");
  }
  t.step("lookup", group ? "group destination " + MacAddr::from_bytes(p.data).to_string() +
                               ": flooded in network " + s.bridges[p.bridge].name
                         : "destination " + mac_text(dst) + " is unknown: flooded in network " +
                               s.bridges[p.bridge].name);
  size_t copies = 0;
  for (LportId lp : *s.bridges[p.bridge].lports) {
    if (lp == p.in_lport) continue;
    const LportEntry& le = s.lports[lp];
    if (pe->isolated && s.ports[le.port].isolated) {
      t.step("flood", "skips isolated port " + lport_text(s, lp));
      continue;
    }
    if (dst) {
      const PortEntry& to = s.ports[le.port];
      if (to.own_mac_only && to.own_mac_only != dst && !to.promiscuous) {
        t.step("flood", "skips " + lport_text(s, lp) + ": its VIF takes only its own MAC");
        continue;
      }
    }
    t.output(lp);
    ++copies;
  }
  if (copies == 0)
    return t.drop(DropReason::kNoDestination, "flood", "no other port is on the network");
  return t.done("flood");
}

}  // namespace hvnet
