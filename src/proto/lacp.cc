#include "proto/lacp.h"

#include <algorithm>
#include <tuple>

#include "proto/lacp_machines.h"

namespace hvnet::proto {

const char* rx_state_name(RxState s) {
  switch (s) {
    case RxState::kInitialize:
      return "initialize";
    case RxState::kPortDisabled:
      return "port_disabled";
    case RxState::kExpired:
      return "expired";
    case RxState::kDefaulted:
      return "defaulted";
    case RxState::kCurrent:
      return "current";
  }
  return "unknown";
}

const char* periodic_state_name(PeriodicState s) {
  switch (s) {
    case PeriodicState::kNoPeriodic:
      return "no_periodic";
    case PeriodicState::kFastPeriodic:
      return "fast_periodic";
    case PeriodicState::kSlowPeriodic:
      return "slow_periodic";
    case PeriodicState::kPeriodicTx:
      return "periodic_tx";
  }
  return "unknown";
}

const char* mux_state_name(MuxState s) {
  switch (s) {
    case MuxState::kDetached:
      return "detached";
    case MuxState::kWaiting:
      return "waiting";
    case MuxState::kAttached:
      return "attached";
    case MuxState::kCollectingDistributing:
      return "collecting_distributing";
  }
  return "unknown";
}

const char* selected_name(Selected s) {
  switch (s) {
    case Selected::kUnselected:
      return "unselected";
    case Selected::kSelected:
      return "selected";
    case Selected::kStandby:
      return "standby";
  }
  return "unknown";
}

namespace {

void set_bit(uint8_t& state, uint8_t bit, bool on) {
  state = on ? uint8_t(state | bit) : uint8_t(state & ~bit);
}

// The fields 802.1AX compares when it asks whether two views of a port are the same port of the
// same aggregation (recordPDU, update_Selected): port, priorities, system, key, aggregation.
bool same_port_of_same_aggregation(const LacpInfo& a, const LacpInfo& b) {
  return a.port == b.port && a.port_priority == b.port_priority && a.sys_mac == b.sys_mac &&
         a.sys_priority == b.sys_priority && a.key == b.key &&
         (a.state & kStateAggregation) == (b.state & kStateAggregation);
}

// Partner_Admin values: no partner; its Timeout follows ours, so a fast actor keeps probing a
// silent link every second and a repaired link renegotiates at once.
LacpInfo partner_admin(const LacpPortVars& v) {
  LacpInfo p;
  p.state = v.actor.state & kStateTimeout;
  return p;
}

void record_default(LacpPortVars& v) {
  v.partner = partner_admin(v);
  set_bit(v.actor.state, kStateDefaulted, true);
}

void unselect(LacpPortVars& v) {
  v.selected = Selected::kUnselected;
  v.reselect = true;
}

void record_pdu(LacpPortVars& v, const Lacpdu& pdu) {
  v.partner = pdu.actor;
  set_bit(v.actor.state, kStateDefaulted, false);
  const bool partner_sync = pdu.actor.state & kStateSync;
  const bool individual = !(pdu.actor.state & kStateAggregation);
  const bool knows_us = same_port_of_same_aggregation(pdu.partner, v.actor);
  set_bit(v.partner.state, kStateSync, partner_sync && (knows_us || individual));
}

void update_selected(LacpPortVars& v, const Lacpdu& pdu) {
  if (!same_port_of_same_aggregation(pdu.actor, v.partner)) unselect(v);
}

void update_default_selected(LacpPortVars& v) {
  if (!same_port_of_same_aggregation(partner_admin(v), v.partner)) unselect(v);
}

void update_ntt(LacpPortVars& v, const Lacpdu& pdu) {
  constexpr uint8_t kCompared = kStateActivity | kStateTimeout | kStateSync | kStateAggregation;
  if (!same_port_of_same_aggregation(pdu.partner, v.actor) ||
      (pdu.partner.state & kCompared) != (v.actor.state & kCompared))
    v.ntt = true;
}

uint64_t actor_timeout(const LacpPortVars& v) {
  return (v.actor.state & kStateTimeout) ? kFastTimeoutMs : kSlowTimeoutMs;
}

}  // namespace

void enter_rx(LacpPortVars& v, RxState s) {
  switch (s) {
    case RxState::kInitialize:
      unselect(v);
      record_default(v);
      set_bit(v.actor.state, kStateExpired, false);
      v.current_while = 0;
      break;
    case RxState::kPortDisabled:
      set_bit(v.partner.state, kStateSync, false);
      v.current_while = 0;
      break;
    case RxState::kExpired:
      set_bit(v.partner.state, kStateSync, false);
      set_bit(v.partner.state, kStateTimeout, true);
      v.current_while = v.now + kFastTimeoutMs;
      set_bit(v.actor.state, kStateExpired, true);
      break;
    case RxState::kDefaulted:
      update_default_selected(v);
      record_default(v);
      set_bit(v.actor.state, kStateExpired, false);
      v.current_while = 0;
      break;
    case RxState::kCurrent: {
      const Lacpdu& pdu = *v.pdu;
      update_selected(v, pdu);
      update_ntt(v, pdu);
      record_pdu(v, pdu);
      v.current_while = v.now + actor_timeout(v);
      set_bit(v.actor.state, kStateExpired, false);
      v.pdu = nullptr;  // taken
      break;
    }
  }
}

void enter_periodic(LacpPortVars& v, PeriodicState s) {
  switch (s) {
    case PeriodicState::kNoPeriodic:
      v.periodic_timer = 0;
      break;
    case PeriodicState::kFastPeriodic:
      v.periodic_timer = v.now + kFastPeriodMs;
      break;
    case PeriodicState::kSlowPeriodic:
      v.periodic_timer = v.now + kSlowPeriodMs;
      break;
    case PeriodicState::kPeriodicTx:
      v.periodic_timer = 0;
      v.ntt = true;
      break;
  }
}

void enter_mux(LacpPortVars& v, MuxState s) {
  switch (s) {
    case MuxState::kDetached:  // Detach_Mux_From_Aggregator; Disable_Collecting_Distributing
      set_bit(v.actor.state, kStateSync | kStateCollecting | kStateDistributing, false);
      v.wait_while = 0;
      v.ntt = true;
      break;
    case MuxState::kWaiting:
      v.wait_while = v.now + kAggregateWaitMs;
      break;
    case MuxState::kAttached:  // Attach_Mux_To_Aggregator; Disable_Collecting_Distributing
      set_bit(v.actor.state, kStateSync, true);
      set_bit(v.actor.state, kStateCollecting | kStateDistributing, false);
      v.wait_while = 0;
      v.ntt = true;
      break;
    case MuxState::kCollectingDistributing:  // Enable_Collecting_Distributing
      set_bit(v.actor.state, kStateCollecting | kStateDistributing, true);
      v.ntt = true;
      break;
  }
}

void Lacp::set_actor_config(LacpPortVars& v) const {
  v.actor.sys_priority = cfg_.sys_priority;
  v.actor.sys_mac = cfg_.sys_mac;
  v.actor.key = cfg_.key;
  set_bit(v.actor.state, kStateTimeout, cfg_.fast);
}

void Lacp::configure(const LacpConfig& cfg) {
  cfg_ = cfg;
  for (auto& mem : members_) {
    LacpPortVars& v = mem.v;
    const uint8_t before = v.actor.state;
    const LacpInfo was = v.actor;
    set_actor_config(v);
    // Another system or key is another aggregation: the partner must see us anew.
    if (!same_port_of_same_aggregation(was, v.actor)) unselect(v);
    if (v.rx == RxState::kDefaulted) v.partner = partner_admin(v);
    if (v.actor.state != before || v.reselect) v.ntt = true;
  }
}

size_t Lacp::add_member(uint16_t port) {
  Member mem;
  LacpPortVars& v = mem.v;
  v.actor.port_priority = 0xff;
  v.actor.port = port;
  v.actor.state = kStateActivity | kStateAggregation;
  set_actor_config(v);
  enter_rx(v, RxState::kInitialize);
  enter_periodic(v, PeriodicState::kNoPeriodic);
  enter_mux(v, MuxState::kDetached);
  members_.push_back(mem);
  return members_.size() - 1;
}

void Lacp::set_enabled(size_t m, bool enabled) {
  members_[m].v.port_enabled = enabled;
}

void Lacp::rx(size_t m, const Lacpdu& pdu) {
  Member& mem = members_[m];
  ++mem.pdus_rx;
  mem.queued = pdu;
  mem.has_queued = true;
}

void Lacp::select() {
  auto candidate = [](const LacpPortVars& v) {
    return v.port_enabled && !v.loopback &&
           (v.rx == RxState::kCurrent || v.rx == RxState::kExpired);
  };
  // The aggregator follows the best partner system, aggregatable partners first.
  auto rank = [](const LacpPortVars& v) {
    return std::make_tuple(!(v.partner.state & kStateAggregation), v.partner.sys_priority,
                           v.partner.sys_mac, v.partner.key, v.actor.port);
  };
  const LacpPortVars* lead = nullptr;
  for (const auto& mem : members_)
    if (candidate(mem.v) && !mem.v.reselect && (!lead || rank(mem.v) < rank(*lead))) lead = &mem.v;
  const bool lead_individual = lead && !(lead->partner.state & kStateAggregation);
  bool ready = true;
  for (auto& mem : members_) {
    LacpPortVars& v = mem.v;
    if (!candidate(v) || v.reselect)
      v.selected = Selected::kUnselected;
    else if (lead_individual)
      v.selected = &v == lead ? Selected::kSelected : Selected::kStandby;
    else if ((v.partner.state & kStateAggregation) && v.partner.same_system(lead->partner))
      v.selected = Selected::kSelected;
    else
      v.selected = Selected::kStandby;
    if (v.mux == MuxState::kWaiting && v.selected == Selected::kSelected &&
        !lacp_cond::expired(v.wait_while, v.now))
      ready = false;
  }
  for (auto& mem : members_) mem.v.ready = ready;
}

void Lacp::step(uint64_t now_ms, size_t pdu_member, const Lacpdu* pdu) {
  for (size_t i = 0; i < members_.size(); ++i) {
    members_[i].v.now = now_ms;
    members_[i].v.pdu = i == pdu_member ? pdu : nullptr;
  }
  for (int round = 0; round < 4; ++round) {
    bool moved = false;
    for (auto& mem : members_) {
      moved |= step_machine(mem.v, &LacpPortVars::rx, kRxMachine, enter_rx);
      moved |= step_machine(mem.v, &LacpPortVars::periodic, kPeriodicMachine, enter_periodic);
    }
    select();
    for (auto& mem : members_) {
      moved |= step_machine(mem.v, &LacpPortVars::mux, kMuxMachine, enter_mux);
      mem.v.reselect = false;  // the mux has seen UNSELECTED
    }
    if (!moved) break;
  }
  for (auto& mem : members_) mem.v.pdu = nullptr;  // a PDU no arrow took is discarded
}

uint64_t Lacp::next_tx_at(const Member& mem) const {
  // tx_times[tx_next] is the oldest of the last kMaxTxPerFastPeriod sends.
  return mem.pdus_tx < kMaxTxPerFastPeriod ? 0 : mem.tx_times[mem.tx_next] + kFastPeriodMs;
}

void Lacp::run(uint64_t now_ms, const std::function<void(size_t, const Lacpdu&)>& send) {
  for (size_t i = 0; i < members_.size(); ++i) {
    Member& mem = members_[i];
    if (!mem.has_queued) continue;
    mem.has_queued = false;
    // Our own PDU coming back: the member is looped (two members on one wire, or a hub).
    mem.v.loopback = mem.queued.actor.sys_mac == cfg_.sys_mac &&
                     mem.queued.actor.sys_priority == cfg_.sys_priority;
    if (!mem.v.loopback) step(now_ms, i, &mem.queued);
  }
  step(now_ms);
  for (size_t i = 0; i < members_.size(); ++i) {
    Member& mem = members_[i];
    LacpPortVars& v = mem.v;
    // Transmit machine: NTT on an enabled member, at most 3 PDUs in any fast period.
    if (!v.ntt || !v.port_enabled || v.periodic == PeriodicState::kNoPeriodic) continue;
    if (now_ms < next_tx_at(mem)) continue;
    Lacpdu pdu;
    pdu.actor = v.actor;
    pdu.partner = v.partner;
    send(i, pdu);
    ++mem.pdus_tx;
    mem.tx_times[mem.tx_next] = now_ms;
    mem.tx_next = (mem.tx_next + 1) % kMaxTxPerFastPeriod;
    v.ntt = false;
  }
}

uint64_t Lacp::next_deadline() const {
  uint64_t d = UINT64_MAX;
  auto at = [&](uint64_t t) {
    if (t) d = std::min(d, t);
  };
  for (const auto& mem : members_) {
    const LacpPortVars& v = mem.v;
    if (mem.has_queued) return 0;
    if (v.port_enabled != (v.periodic != PeriodicState::kNoPeriodic)) return 0;  // to step
    if (!v.port_enabled) continue;
    if (v.ntt) d = std::min(d, next_tx_at(mem));
    at(v.periodic_timer);
    at(v.current_while);
    at(v.wait_while);
  }
  return d;
}

bool Lacp::may_enable(size_t m) const {
  return members_[m].v.mux == MuxState::kCollectingDistributing;
}

bool Lacp::negotiated() const {
  // EXPIRED counts only for a partner once heard: a link just enabled starts EXPIRED too.
  for (const auto& mem : members_)
    if (mem.v.port_enabled && !mem.v.loopback &&
        (mem.v.rx == RxState::kCurrent ||
         (mem.v.rx == RxState::kExpired && mem.v.partner.sys_mac != std::array<uint8_t, 6>{})))
      return true;
  return false;
}

Lacp::MemberStatus Lacp::status(size_t m) const {
  const Member& mem = members_[m];
  const LacpPortVars& v = mem.v;
  const bool attached = v.mux == MuxState::kAttached || v.mux == MuxState::kCollectingDistributing;
  return MemberStatus{v.rx,       v.mux,   v.periodic, v.selected,  v.port_enabled, attached,
                      v.loopback, v.actor, v.partner,  mem.pdus_rx, mem.pdus_tx};
}

std::string Lacp::state_string(uint8_t s) {
  static const char* names[] = {"activity",   "timeout",      "aggregation", "synchronized",
                                "collecting", "distributing", "defaulted",   "expired"};
  std::string out;
  for (int i = 0; i < 8; ++i) {
    if (!(s & (1 << i))) continue;
    if (!out.empty()) out += ",";
    out += names[i];
  }
  return out;
}

}  // namespace hvnet::proto
