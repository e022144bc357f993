// The per-member machines of IEEE 802.1AX-2014 as tables: each row is an arrow of the standard's
// state diagram (from, the condition written on it, to); a row "from any state" is the diagram's
// global arrow. Entering a state runs the actions in that state's box (enter_rx/enter_periodic/
// enter_mux in lacp.cc, one case per box). step_machine() follows the first arrow whose condition
// holds until none does. Everything here is a pure function of LacpPortVars.
#pragma once

#include "proto/lacp.h"

namespace hvnet::proto {

template <typename State>
struct LacpRow {
  bool from_any;  // the diagram's global arrow (not taken from `to` itself)
  State from;
  bool (*when)(const LacpPortVars&);
  State to;
  const char* arrow;  // the condition as the diagram writes it
};

namespace lacp_cond {
inline bool port_enabled(const LacpPortVars& v) {
  return v.port_enabled;
}
inline bool port_disabled(const LacpPortVars& v) {
  return !v.port_enabled;
}
inline bool always(const LacpPortVars&) {
  return true;
}
inline bool pdu_received(const LacpPortVars& v) {
  return v.pdu != nullptr;
}
inline bool expired(uint64_t deadline, uint64_t now) {
  return deadline != 0 && now >= deadline;
}
inline bool current_while_expired(const LacpPortVars& v) {
  return v.pdu == nullptr && expired(v.current_while, v.now);
}
inline bool periodic_expired(const LacpPortVars& v) {
  return expired(v.periodic_timer, v.now);
}
inline bool partner_short(const LacpPortVars& v) {
  return v.partner.state & kStateTimeout;
}
inline bool partner_long(const LacpPortVars& v) {
  return !partner_short(v);
}
inline bool unselected(const LacpPortVars& v) {
  return v.selected == Selected::kUnselected;
}
inline bool selected_or_standby(const LacpPortVars& v) {
  return !unselected(v);
}
inline bool unselected_or_standby(const LacpPortVars& v) {
  return v.selected != Selected::kSelected;
}
// Ready: this member's wait_while is over (Ready_N) and so is every other waiting member's.
inline bool selected_and_ready(const LacpPortVars& v) {
  return v.selected == Selected::kSelected && v.ready && expired(v.wait_while, v.now);
}
inline bool partner_sync(const LacpPortVars& v) {
  return v.partner.state & kStateSync;
}
inline bool selected_and_partner_sync(const LacpPortVars& v) {
  return v.selected == Selected::kSelected && partner_sync(v);
}
inline bool unselected_or_standby_or_partner_out_of_sync(const LacpPortVars& v) {
  return unselected_or_standby(v) || !partner_sync(v);
}
}  // namespace lacp_cond

// Receive machine, figure 6-18 (LACP_Enabled is always true here; Port_Moved never arises).
inline constexpr LacpRow<RxState> kRxMachine[] = {
    {true, RxState::kInitialize, lacp_cond::port_disabled, RxState::kPortDisabled,
     "!Port_Enabled && !Port_Moved"},
    {false, RxState::kInitialize, lacp_cond::always, RxState::kPortDisabled, "UCT"},
    {false, RxState::kPortDisabled, lacp_cond::port_enabled, RxState::kExpired,
     "Port_Enabled && LACP_Enabled"},
    {false, RxState::kExpired, lacp_cond::pdu_received, RxState::kCurrent, "CtrlMuxN:M_UNITDATA"},
    {false, RxState::kExpired, lacp_cond::current_while_expired, RxState::kDefaulted,
     "current_while_timer expired"},
    {false, RxState::kDefaulted, lacp_cond::pdu_received, RxState::kCurrent, "CtrlMuxN:M_UNITDATA"},
    {false, RxState::kCurrent, lacp_cond::pdu_received, RxState::kCurrent, "CtrlMuxN:M_UNITDATA"},
    {false, RxState::kCurrent, lacp_cond::current_while_expired, RxState::kExpired,
     "current_while_timer expired"},
};

// Periodic transmission machine, figure 6-19 (both ends passive cannot arise: we are active).
inline constexpr LacpRow<PeriodicState> kPeriodicMachine[] = {
    {true, PeriodicState::kNoPeriodic, lacp_cond::port_disabled, PeriodicState::kNoPeriodic,
     "!Port_Enabled"},
    {false, PeriodicState::kNoPeriodic, lacp_cond::port_enabled, PeriodicState::kFastPeriodic,
     "UCT"},
    {false, PeriodicState::kFastPeriodic, lacp_cond::partner_long, PeriodicState::kSlowPeriodic,
     "Partner_Oper_Port_State.LACP_Timeout == Long Timeout"},
    {false, PeriodicState::kFastPeriodic, lacp_cond::periodic_expired, PeriodicState::kPeriodicTx,
     "periodic_timer expired"},
    {false, PeriodicState::kSlowPeriodic, lacp_cond::partner_short, PeriodicState::kPeriodicTx,
     "Partner_Oper_Port_State.LACP_Timeout == Short Timeout"},
    {false, PeriodicState::kSlowPeriodic, lacp_cond::periodic_expired, PeriodicState::kPeriodicTx,
     "periodic_timer expired"},
    {false, PeriodicState::kPeriodicTx, lacp_cond::partner_short, PeriodicState::kFastPeriodic,
     "Partner_Oper_Port_State.LACP_Timeout == Short Timeout"},
    {false, PeriodicState::kPeriodicTx, lacp_cond::partner_long, PeriodicState::kSlowPeriodic,
     "Partner_Oper_Port_State.LACP_Timeout == Long Timeout"},
};

// Mux machine, coupled control, figure 6-22.
inline constexpr LacpRow<MuxState> kMuxMachine[] = {
    {false, MuxState::kDetached, lacp_cond::selected_or_standby, MuxState::kWaiting,
     "Selected == SELECTED || Selected == STANDBY"},
    {false, MuxState::kWaiting, lacp_cond::unselected, MuxState::kDetached,
     "Selected == UNSELECTED"},
    {false, MuxState::kWaiting, lacp_cond::selected_and_ready, MuxState::kAttached,
     "Selected == SELECTED && Ready"},
    {false, MuxState::kAttached, lacp_cond::unselected_or_standby, MuxState::kDetached,
     "Selected == UNSELECTED || Selected == STANDBY"},
    {false, MuxState::kAttached, lacp_cond::selected_and_partner_sync,
     MuxState::kCollectingDistributing,
     "Selected == SELECTED && Partner_Oper_Port_State.Synchronization"},
    {false, MuxState::kCollectingDistributing,
     lacp_cond::unselected_or_standby_or_partner_out_of_sync, MuxState::kAttached,
     "Selected == UNSELECTED || Selected == STANDBY || !Partner_Oper_Port_State.Synchronization"},
};

// The actions in each state's box.
void enter_rx(LacpPortVars& v, RxState s);
void enter_periodic(LacpPortVars& v, PeriodicState s);
void enter_mux(LacpPortVars& v, MuxState s);

// The arrow a machine in `state` takes now, or nullptr: the first row whose condition holds.
template <typename State, size_t N>
const LacpRow<State>* next_arrow(const LacpPortVars& v, State state,
                                 const LacpRow<State> (&table)[N]) {
  for (const auto& r : table)
    if ((r.from_any ? state != r.to : state == r.from) && r.when(v)) return &r;
  return nullptr;
}

// Follows arrows from v.*state, running each entered state's actions, until no condition holds
// (at most 8 arrows, so a table error cannot spin). Returns whether the state changed.
template <typename State, size_t N>
bool step_machine(LacpPortVars& v, State LacpPortVars::*state, const LacpRow<State> (&table)[N],
                  void (*enter)(LacpPortVars&, State)) {
  bool moved = false;
  for (int i = 0; i < 8; ++i) {
    const LacpRow<State>* arrow = next_arrow(v, v.*state, table);
    if (!arrow) break;
    v.*state = arrow->to;
    enter(v, arrow->to);
    moved = true;
  }
  return moved;
}

}  // namespace hvnet::proto
