// Lacp: one bond's IEEE 802.1AX (LACP) actor as a pure state machine with injected time, in the
// manner of Open vSwitch's lib/lacp.c. Per member: the receive machine (CURRENT -> EXPIRED ->
// DEFAULTED on a 3x timeout), the periodic machine (1 s or 30 s, following the partner's Timeout
// bit), need-to-transmit on any state change, and selection (a member attaches only if its
// partner has the aggregator's system and key; a partner that is ourselves is a loop). No I/O,
// no clock, no allocation after add_member(): the caller feeds PDUs and time and sends what run()
// hands back. Single-threaded (the forwarding thread owns it).
#pragma once

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

enum class LacpRxStatus : uint8_t { kCurrent, kExpired, kDefaulted };
const char* lacp_rx_status_name(LacpRxStatus s);

inline constexpr uint64_t kFastPeriodMs = 1000;
inline constexpr uint64_t kSlowPeriodMs = 30000;
inline constexpr uint64_t kFastTimeoutMs = 3 * kFastPeriodMs;
inline constexpr uint64_t kSlowTimeoutMs = 3 * kSlowPeriodMs;

class Lacp {
 public:
  explicit Lacp(LacpConfig cfg) : cfg_(cfg) {}
  void configure(const LacpConfig& cfg);

  // Members are numbered in the order they are added (0, 1, …); `port` is the LACP port number.
  size_t add_member(uint16_t port);
  size_t member_count() const { return members_.size(); }

  // Carrier up/down of a member.
  void set_enabled(size_t m, bool enabled);
  // A received LACPDU for member m.
  void rx(size_t m, const Lacpdu& pdu, uint64_t now_ms);
  // Advances timers to now_ms and calls send(m, pdu) for every PDU due.
  void run(uint64_t now_ms, const std::function<void(size_t, const Lacpdu&)>& send);
  // The earliest time run() has something to do.
  uint64_t next_deadline() const;

  // May member m carry traffic (attached and the partner in sync)?
  bool may_enable(size_t m) const;
  // Has any member a current partner? (If not and fallback_ab is on, the bond is active-backup.)
  bool negotiated() const;
  bool fallback_ab() const { return cfg_.fallback_ab; }

  struct MemberStatus {
    LacpRxStatus rx;
    bool enabled, attached, loopback;
    LacpInfo actor, partner;
    uint64_t pdus_rx, pdus_tx;
  };
  MemberStatus status(size_t m) const;
  static std::string state_string(uint8_t state);  // "activity,timeout,aggregation,…"

 private:
  struct Member {
    uint16_t port = 0;
    bool enabled = false;
    bool attached = false;
    bool loopback = false;
    bool ntt = true;
    LacpRxStatus rx_status = LacpRxStatus::kDefaulted;
    LacpInfo partner;
    LacpInfo partner_view;  // what the partner last told us it believes about us
    uint8_t actor_state = 0;
    uint64_t rx_deadline = 0;
    uint64_t tx_deadline = 0;
    uint64_t pdus_rx = 0, pdus_tx = 0;
  };
  LacpInfo actor_info(const Member& mem) const;
  void update_selection();
  uint64_t timeout_ms() const { return cfg_.fast ? kFastTimeoutMs : kSlowTimeoutMs; }

  LacpConfig cfg_;
  std::vector<Member> members_;
};

}  // namespace hvnet::proto
