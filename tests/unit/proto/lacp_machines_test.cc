// One test per arrow of 802.1AX's receive, periodic and mux state diagrams (the tables of
// lacp_machines.h): the condition written on the arrow leads to its state, and entering the state
// does what its box says. Time is a number in the variables; nothing here runs a clock.
#include "proto/lacp_machines.h"

#include <gtest/gtest.h>

namespace hvnet::proto {
namespace {

constexpr uint8_t kSyncCollDist = kStateSync | kStateCollecting | kStateDistributing;

LacpPortVars vars() {
  LacpPortVars v;
  v.now = 10000;
  v.port_enabled = true;
  v.actor = {65534, {2, 0, 0, 0, 0, 1}, 1, 0xff, 7, kStateActivity | kStateAggregation};
  return v;
}

// What the partner says when it knows us: its actor values, and ours as its partner.
Lacpdu partner_pdu(const LacpPortVars& v, uint8_t state) {
  Lacpdu p;
  p.actor = {
      100, {2, 0, 0, 0, 0, 9}, 5, 0x80, 3, uint8_t(kStateActivity | kStateAggregation | state)};
  p.partner = v.actor;
  return p;
}

// Takes the one arrow out of `from` that the variables choose; fails unless it leads to `to`.
template <typename S, size_t N>
void take(LacpPortVars& v, S LacpPortVars::*state, const LacpRow<S> (&table)[N],
          void (*enter)(LacpPortVars&, S), S from, S to) {
  v.*state = from;
  const LacpRow<S>* arrow = next_arrow(v, from, table);
  ASSERT_NE(arrow, nullptr);
  EXPECT_EQ(arrow->to, to) << arrow->arrow;
  v.*state = arrow->to;
  enter(v, arrow->to);
}
void rx(LacpPortVars& v, RxState from, RxState to) {
  take(v, &LacpPortVars::rx, kRxMachine, enter_rx, from, to);
}
void periodic(LacpPortVars& v, PeriodicState from, PeriodicState to) {
  take(v, &LacpPortVars::periodic, kPeriodicMachine, enter_periodic, from, to);
}
void mux(LacpPortVars& v, MuxState from, MuxState to) {
  take(v, &LacpPortVars::mux, kMuxMachine, enter_mux, from, to);
}

// ---- Receive machine (figure 6-18) ----

TEST(LacpRx, AnyStateGoesToPortDisabledWhenThePortIsDisabled) {
  for (RxState s :
       {RxState::kInitialize, RxState::kExpired, RxState::kDefaulted, RxState::kCurrent}) {
    LacpPortVars v = vars();
    v.port_enabled = false;
    v.partner.state = kStateSync;
    rx(v, s, RxState::kPortDisabled);
    EXPECT_FALSE(v.partner.state & kStateSync);
  }
  LacpPortVars v = vars();
  v.port_enabled = false;
  EXPECT_EQ(next_arrow(v, RxState::kPortDisabled, kRxMachine), nullptr);  // no self-loop
}

TEST(LacpRx, InitializeRecordsDefaultsAndIsLeftUnconditionally) {
  LacpPortVars v = vars();
  v.partner = partner_pdu(v, kStateSync).actor;
  v.selected = Selected::kSelected;
  enter_rx(v, RxState::kInitialize);
  EXPECT_EQ(v.selected, Selected::kUnselected);
  EXPECT_EQ(v.partner.sys_mac, (std::array<uint8_t, 6>{}));
  EXPECT_TRUE(v.actor.state & kStateDefaulted);
  EXPECT_FALSE(v.actor.state & kStateExpired);
  rx(v, RxState::kInitialize, RxState::kPortDisabled);  // UCT
}

TEST(LacpRx, PortDisabledToExpiredWhenEnabled) {
  LacpPortVars v = vars();
  v.partner.state = kStateSync;
  rx(v, RxState::kPortDisabled, RxState::kExpired);
  EXPECT_FALSE(v.partner.state & kStateSync);
  EXPECT_TRUE(v.partner.state & kStateTimeout);  // the partner's timeout forced short
  EXPECT_TRUE(v.actor.state & kStateExpired);
  EXPECT_EQ(v.current_while, v.now + kFastTimeoutMs);
}

TEST(LacpRx, ExpiredToCurrentOnAPdu) {
  LacpPortVars v = vars();
  v.actor.state |= kStateExpired | kStateDefaulted;
  const Lacpdu p = partner_pdu(v, kStateSync);
  v.pdu = &p;
  rx(v, RxState::kExpired, RxState::kCurrent);
  EXPECT_EQ(v.pdu, nullptr);  // taken
  EXPECT_EQ(v.partner.sys_mac, p.actor.sys_mac);
  EXPECT_TRUE(v.partner.state & kStateSync);  // it knows us and says it is in sync
  EXPECT_FALSE(v.actor.state & (kStateExpired | kStateDefaulted));
  EXPECT_EQ(v.current_while, v.now + kSlowTimeoutMs);  // our long timeout
  EXPECT_EQ(v.selected, Selected::kUnselected);        // a new partner: update_Selected
}

TEST(LacpRx, ExpiredToDefaultedWhenCurrentWhileRunsOut) {
  LacpPortVars v = vars();
  v.partner = partner_pdu(v, 0).actor;
  v.current_while = v.now;
  v.selected = Selected::kSelected;
  v.actor.state |= kStateExpired;
  rx(v, RxState::kExpired, RxState::kDefaulted);
  EXPECT_EQ(v.partner, LacpInfo{});              // Partner_Admin (long timeout, like ours)
  EXPECT_EQ(v.selected, Selected::kUnselected);  // update_Default_Selected
  EXPECT_TRUE(v.actor.state & kStateDefaulted);
  EXPECT_FALSE(v.actor.state & kStateExpired);
}

TEST(LacpRx, DefaultedToCurrentOnAPdu) {
  LacpPortVars v = vars();
  enter_rx(v, RxState::kDefaulted);
  const Lacpdu p = partner_pdu(v, 0);
  v.pdu = &p;
  rx(v, RxState::kDefaulted, RxState::kCurrent);
  EXPECT_FALSE(v.actor.state & kStateDefaulted);
  EXPECT_FALSE(v.partner.state & kStateSync);  // it does not say it is in sync
}

TEST(LacpRx, CurrentToCurrentOnAPduRestartsTheTimer) {
  LacpPortVars v = vars();
  const Lacpdu p = partner_pdu(v, kStateSync);  // its view of us: long timeout
  v.actor.state |= kStateTimeout;               // lacp-time=fast since
  v.partner = p.actor;
  v.current_while = v.now + 5;
  v.selected = Selected::kSelected;
  v.ntt = false;
  v.pdu = &p;
  rx(v, RxState::kCurrent, RxState::kCurrent);
  EXPECT_EQ(v.current_while, v.now + kFastTimeoutMs);
  EXPECT_EQ(v.selected, Selected::kSelected);  // the same partner: still selected
  EXPECT_TRUE(v.ntt);                          // it has our Timeout bit wrong: tell it
}

TEST(LacpRx, CurrentToExpiredWhenCurrentWhileRunsOut) {
  LacpPortVars v = vars();
  v.partner = partner_pdu(v, kStateSync).actor;
  v.current_while = v.now;
  rx(v, RxState::kCurrent, RxState::kExpired);
  EXPECT_FALSE(v.partner.state & kStateSync);
  EXPECT_TRUE(v.partner.state & kStateTimeout);
  EXPECT_EQ(v.partner.sys_mac, partner_pdu(v, 0).actor.sys_mac);  // kept while expired
}

TEST(LacpRx, RecordPduTrustsSyncOnlyFromAPartnerThatKnowsUs) {
  LacpPortVars v = vars();
  Lacpdu zero = partner_pdu(v, kStateSync);
  zero.partner = LacpInfo{};  // claims sync with an all-zero view of us
  v.pdu = &zero;
  rx(v, RxState::kExpired, RxState::kCurrent);
  EXPECT_FALSE(v.partner.state & kStateSync);
  Lacpdu wrong_key = partner_pdu(v, kStateSync);
  wrong_key.partner.key = 99;
  v.pdu = &wrong_key;
  rx(v, RxState::kCurrent, RxState::kCurrent);
  EXPECT_FALSE(v.partner.state & kStateSync);
  Lacpdu individual = zero;
  individual.actor.state &= uint8_t(~kStateAggregation);  // an individual partner's word is enough
  v.pdu = &individual;
  rx(v, RxState::kCurrent, RxState::kCurrent);
  EXPECT_TRUE(v.partner.state & kStateSync);
}

// ---- Periodic transmission machine (figure 6-19) ----

TEST(LacpPeriodic, AnyStateGoesToNoPeriodicWhenThePortIsDisabled) {
  for (PeriodicState s :
       {PeriodicState::kFastPeriodic, PeriodicState::kSlowPeriodic, PeriodicState::kPeriodicTx}) {
    LacpPortVars v = vars();
    v.port_enabled = false;
    v.periodic_timer = 5;
    periodic(v, s, PeriodicState::kNoPeriodic);
    EXPECT_EQ(v.periodic_timer, 0u);
  }
}

TEST(LacpPeriodic, NoPeriodicToFastPeriodic) {
  LacpPortVars v = vars();
  periodic(v, PeriodicState::kNoPeriodic, PeriodicState::kFastPeriodic);
  EXPECT_EQ(v.periodic_timer, v.now + kFastPeriodMs);
}

TEST(LacpPeriodic, FastToSlowWhenThePartnerHasTheLongTimeout) {
  LacpPortVars v = vars();
  v.periodic_timer = v.now + 500;
  periodic(v, PeriodicState::kFastPeriodic, PeriodicState::kSlowPeriodic);
  EXPECT_EQ(v.periodic_timer, v.now + kSlowPeriodMs);
}

TEST(LacpPeriodic, FastToPeriodicTxWhenTheTimerRunsOut) {
  LacpPortVars v = vars();
  v.partner.state = kStateTimeout;
  v.periodic_timer = v.now;
  v.ntt = false;
  periodic(v, PeriodicState::kFastPeriodic, PeriodicState::kPeriodicTx);
  EXPECT_TRUE(v.ntt);
}

TEST(LacpPeriodic, SlowToPeriodicTxWhenThePartnerAsksForShortTimeout) {
  LacpPortVars v = vars();
  v.partner.state = kStateTimeout;
  v.periodic_timer = v.now + 20000;
  v.ntt = false;
  periodic(v, PeriodicState::kSlowPeriodic, PeriodicState::kPeriodicTx);
  EXPECT_TRUE(v.ntt);
}

TEST(LacpPeriodic, SlowToPeriodicTxWhenTheTimerRunsOut) {
  LacpPortVars v = vars();
  v.periodic_timer = v.now;
  v.ntt = false;
  periodic(v, PeriodicState::kSlowPeriodic, PeriodicState::kPeriodicTx);
  EXPECT_TRUE(v.ntt);
}

TEST(LacpPeriodic, PeriodicTxFollowsThePartnersTimeout) {
  LacpPortVars v = vars();
  v.partner.state = kStateTimeout;
  periodic(v, PeriodicState::kPeriodicTx, PeriodicState::kFastPeriodic);
  EXPECT_EQ(v.periodic_timer, v.now + kFastPeriodMs);
  v.partner.state = 0;
  periodic(v, PeriodicState::kPeriodicTx, PeriodicState::kSlowPeriodic);
  EXPECT_EQ(v.periodic_timer, v.now + kSlowPeriodMs);
}

// ---- Mux machine, coupled control (figure 6-22) ----

TEST(LacpMux, DetachedToWaitingWhenSelectedOrStandby) {
  for (Selected s : {Selected::kSelected, Selected::kStandby}) {
    LacpPortVars v = vars();
    v.selected = s;
    mux(v, MuxState::kDetached, MuxState::kWaiting);
    EXPECT_EQ(v.wait_while, v.now + kAggregateWaitMs);
    EXPECT_FALSE(v.actor.state & kStateSync);
  }
  LacpPortVars v = vars();
  EXPECT_EQ(next_arrow(v, MuxState::kDetached, kMuxMachine), nullptr);
}

TEST(LacpMux, WaitingToDetachedWhenUnselected) {
  LacpPortVars v = vars();
  v.ready = true;
  v.actor.state |= kSyncCollDist;
  v.ntt = false;
  mux(v, MuxState::kWaiting, MuxState::kDetached);
  EXPECT_FALSE(v.actor.state & kSyncCollDist);
  EXPECT_TRUE(v.ntt);
}

TEST(LacpMux, WaitingToAttachedOnlyWhenSelectedAndReady) {
  LacpPortVars v = vars();
  v.selected = Selected::kSelected;
  v.wait_while = v.now + 1;
  v.ready = true;  // the others' waits are over, not this one's (Ready_N)
  EXPECT_EQ(next_arrow(v, MuxState::kWaiting, kMuxMachine), nullptr);
  v.wait_while = v.now;
  v.ready = false;  // this one's is over, another member still waits
  EXPECT_EQ(next_arrow(v, MuxState::kWaiting, kMuxMachine), nullptr);
  v.selected = Selected::kStandby;
  v.ready = true;
  EXPECT_EQ(next_arrow(v, MuxState::kWaiting, kMuxMachine), nullptr);  // standby waits
  v.selected = Selected::kSelected;
  v.ntt = false;
  mux(v, MuxState::kWaiting, MuxState::kAttached);
  EXPECT_EQ(v.actor.state & kSyncCollDist, kStateSync);
  EXPECT_TRUE(v.ntt);
}

TEST(LacpMux, AttachedToDetachedWhenUnselectedOrStandby) {
  for (Selected s : {Selected::kUnselected, Selected::kStandby}) {
    LacpPortVars v = vars();
    v.selected = s;
    v.partner.state = kStateSync;
    v.actor.state |= kStateSync;
    mux(v, MuxState::kAttached, MuxState::kDetached);
    EXPECT_FALSE(v.actor.state & kStateSync);
  }
}

TEST(LacpMux, AttachedToCollectingDistributingWhenThePartnerIsInSync) {
  LacpPortVars v = vars();
  v.selected = Selected::kSelected;
  v.actor.state |= kStateSync;
  EXPECT_EQ(next_arrow(v, MuxState::kAttached, kMuxMachine), nullptr);  // partner out of sync
  v.partner.state = kStateSync;
  mux(v, MuxState::kAttached, MuxState::kCollectingDistributing);
  EXPECT_EQ(v.actor.state & kSyncCollDist, kSyncCollDist);
}

TEST(LacpMux, CollectingDistributingBackToAttached) {
  struct Case {
    Selected sel;
    uint8_t partner;
  };
  for (Case c : {Case{Selected::kUnselected, kStateSync}, Case{Selected::kStandby, kStateSync},
                 Case{Selected::kSelected, 0}}) {
    LacpPortVars v = vars();
    v.selected = c.sel;
    v.partner.state = c.partner;
    v.actor.state |= kSyncCollDist;
    v.ntt = false;
    mux(v, MuxState::kCollectingDistributing, MuxState::kAttached);
    EXPECT_EQ(v.actor.state & kSyncCollDist, kStateSync);
    EXPECT_TRUE(v.ntt);
  }
}

// The tables hold exactly the diagrams' arrows (a row added or lost shows here).
TEST(LacpMachines, TablesHaveTheDiagramsArrows) {
  EXPECT_EQ(std::size(kRxMachine), 8u);
  EXPECT_EQ(std::size(kPeriodicMachine), 8u);
  EXPECT_EQ(std::size(kMuxMachine), 6u);
}

}  // namespace
}  // namespace hvnet::proto
