// Lacp: one bond's IEEE 802.1AX (LACP) actor as pure state machines with injected time. Per
// member the standard's receive, periodic-transmission and mux machines (coupled control, 802.1AX
// 6.4.12 / 6.4.13 / 6.4.15), the selection logic for the bond's one aggregator, and the transmit
// machine's need-to-transmit with its limit of 3 PDUs per fast period. Each machine is a table of
// (from, condition, to) rows, readable against the standard's state diagrams (lacp_machines.h);
// entering a state runs that state's actions as the diagrams list them. No I/O, no clock, no
// allocation after add_member(): the caller feeds PDUs and time and sends what run() hands back.
// Single-threaded (the forwarding thread owns it).
//
// What a reader of the standard should know:
//  - recordPDU marks the partner in sync only when the partner's view of us (port, priorities,
//    system, key, aggregation) matches what we are, or the partner is individual; so a partner's
//    word alone never enables a member.
//  - The mux waits the aggregate wait time (2 s) before attaching, then sets Synchronization, and
//    collects and distributes only once the partner is in sync: our first PDUs never claim 0x3f.
//  - Expiry clears the partner's Synchronization (the mux falls back to ATTACHED and our PDUs stop
//    claiming Collecting/Distributing) and forces the partner's Timeout to short.
//  - configure() changes only what it changes: lacp-time flips the Timeout bit and the periodic
//    rate, with need-to-transmit; the partner, the mux and the selection stay as they were.
//  - Simplifications: every member is LACP-enabled and active; one aggregator per bond (a member
//    whose partner is another system or individual stands by); Port_Moved does not arise.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "proto/lacpdu.h"

namespace hvnet::proto {

struct LacpConfig {
  std::array<uint8_t, 6> sys_mac{};
  uint16_t sys_priority = 65534;
  uint16_t key = 1;
  bool fast = false;         // lacp-time=fast: ask the partner for 1 s PDUs, 3 s timeout
  bool fallback_ab = false;  // lacp-fallback-ab: a silent partner gives active-backup
};

// The receive machine's states (802.1AX figure 6-18; LACP_DISABLED does not arise).
enum class RxState : uint8_t { kInitialize, kPortDisabled, kExpired, kDefaulted, kCurrent };
// The periodic transmission machine's states (figure 6-19).
enum class PeriodicState : uint8_t { kNoPeriodic, kFastPeriodic, kSlowPeriodic, kPeriodicTx };
// The mux machine's states, coupled control (figure 6-22).
enum class MuxState : uint8_t { kDetached, kWaiting, kAttached, kCollectingDistributing };
// The selection logic's verdict for a member (6.4.8 Selected).
enum class Selected : uint8_t { kUnselected, kSelected, kStandby };

const char* rx_state_name(RxState s);  // "current", "expired", "defaulted", "port_disabled", …
const char* periodic_state_name(PeriodicState s);
const char* mux_state_name(MuxState s);
const char* selected_name(Selected s);

// The standard's timer values (802.1AX table 6-5), in milliseconds.
inline constexpr uint64_t kFastPeriodMs = 1000;
inline constexpr uint64_t kSlowPeriodMs = 30000;
inline constexpr uint64_t kFastTimeoutMs = 3 * kFastPeriodMs;
inline constexpr uint64_t kSlowTimeoutMs = 3 * kSlowPeriodMs;
inline constexpr uint64_t kAggregateWaitMs = 2000;
inline constexpr uint32_t kMaxTxPerFastPeriod = 3;

// One member's machine variables (802.1AX 6.4.7 / 6.4.8), as the transition conditions read them.
struct LacpPortVars {
  uint64_t now = 0;
  bool port_enabled = false;
  bool loopback = false;        // our own PDUs come back: never selected
  const Lacpdu* pdu = nullptr;  // a PDU received and not yet taken by the receive machine
  Selected selected = Selected::kUnselected;
  bool ready = false;  // the aggregator's Ready: every waiting selected member's wait is over
  bool ntt = true;
  bool reselect = false;  // update_Selected saw another partner: UNSELECTED until the mux saw it
  LacpInfo actor;         // actor operational values (state: Actor_Oper_Port_State)
  LacpInfo partner;       // Partner_Oper values
  uint64_t current_while = 0, wait_while = 0, periodic_timer = 0;  // deadlines; 0 = not running
  RxState rx = RxState::kInitialize;
  PeriodicState periodic = PeriodicState::kNoPeriodic;
  MuxState mux = MuxState::kDetached;
};

class Lacp {
 public:
  explicit Lacp(LacpConfig cfg) : cfg_(cfg) {}
  // A new configuration for a running actor: only what changed changes (see above).
  void configure(const LacpConfig& cfg);

  // Members are numbered in the order they are added (0, 1, …); `port` is the LACP port number.
  size_t add_member(uint16_t port);
  size_t member_count() const { return members_.size(); }

  // Carrier up/down of a member (takes effect at the next run()).
  void set_enabled(size_t m, bool enabled);
  // A received LACPDU for member m: kept (the latest one) until the next run(), which hands it
  // to the receive machine at that run's time. Safe to call from run()'s send callback.
  void rx(size_t m, const Lacpdu& pdu);
  // Advances timers to now_ms and calls send(m, pdu) for every PDU due.
  void run(uint64_t now_ms, const std::function<void(size_t, const Lacpdu&)>& send);
  // The earliest time run() has something to do.
  uint64_t next_deadline() const;

  // May member m carry traffic (its mux collects and distributes)?
  bool may_enable(size_t m) const;
  // Has any member a current or expired partner? (If not and fallback_ab is on, active-backup.)
  bool negotiated() const;
  bool fallback_ab() const { return cfg_.fallback_ab; }

  struct MemberStatus {
    RxState rx;
    MuxState mux;
    PeriodicState periodic;
    Selected selected;
    bool enabled, attached, loopback;
    LacpInfo actor, partner;
    uint64_t pdus_rx, pdus_tx;
  };
  MemberStatus status(size_t m) const;
  static std::string state_string(uint8_t state);  // "activity,timeout,aggregation,…"

 private:
  struct Member {
    LacpPortVars v;
    uint64_t tx_times[kMaxTxPerFastPeriod] = {};  // the last PDUs' send times, a ring
    uint32_t tx_next = 0;
    uint64_t pdus_rx = 0, pdus_tx = 0;
    Lacpdu queued;
    bool has_queued = false;
  };
  // Runs selection and every machine of every member until nothing moves.
  void step(uint64_t now_ms, size_t pdu_member = SIZE_MAX, const Lacpdu* pdu = nullptr);
  void select();
  // The actor values that come from the configuration: system, key, the Timeout bit.
  void set_actor_config(LacpPortVars& v) const;
  // The earliest time the transmit machine may send on mem (at most 3 PDUs per fast period).
  uint64_t next_tx_at(const Member& mem) const;

  LacpConfig cfg_;
  std::vector<Member> members_;
};

}  // namespace hvnet::proto
